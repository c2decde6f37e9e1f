//! Every SIMD tier available on this CPU agrees with the scalar reference: integer parts
//! exactly (any larger difference would exceed the tolerance), and the f32 result within
//! 1e-5 of Σ|terms| since the order of f32 additions differs.

mod common;

use common::*;
use edge_kernels::{GgmlType, KernelTable};
use edge_quant::iq4::{BlockIQ4_NL, BlockIQ4_XS};
use edge_quant::k_quants::{BlockQ2K, BlockQ3K, BlockQ4K, BlockQ5K, BlockQ6K, BlockQ8K};
use edge_quant::legacy::{BlockQ4_0, BlockQ4_1, BlockQ5_0, BlockQ5_1, BlockQ8_0, BlockQ8_1};
use proptest::prelude::*;

const REL: f64 = 1e-5;

fn set_d_q4_0(b: &mut BlockQ4_0, d: [u8; 2]) {
    b.d = d;
}
fn set_d_q8_0(b: &mut BlockQ8_0, d: [u8; 2]) {
    b.d = d;
}
fn set_dm_q4_1(b: &mut BlockQ4_1, (d, m): ([u8; 2], [u8; 2])) {
    (b.d, b.m) = (d, m);
}
fn set_ds_q8_1(b: &mut BlockQ8_1, (d, s): ([u8; 2], [u8; 2])) {
    (b.d, b.s) = (d, s);
}
fn set_d_q8_k(b: &mut BlockQ8K, d: f32) {
    b.d = d.to_le_bytes();
}
fn set_dd_q4_k(b: &mut BlockQ4K, (d, dmin): ([u8; 2], [u8; 2])) {
    (b.d, b.dmin) = (d, dmin);
}
fn set_d_q6_k(b: &mut BlockQ6K, d: [u8; 2]) {
    b.d = d;
}
fn set_d_q5_0(b: &mut BlockQ5_0, d: [u8; 2]) {
    b.d = d;
}
fn set_dm_q5_1(b: &mut BlockQ5_1, (d, m): ([u8; 2], [u8; 2])) {
    (b.d, b.m) = (d, m);
}
fn set_dd_q2_k(b: &mut BlockQ2K, (d, dmin): ([u8; 2], [u8; 2])) {
    (b.d, b.dmin) = (d, dmin);
}
fn set_d_q3_k(b: &mut BlockQ3K, d: [u8; 2]) {
    b.d = d;
}
fn set_dd_q5_k(b: &mut BlockQ5K, (d, dmin): ([u8; 2], [u8; 2])) {
    (b.d, b.dmin) = (d, dmin);
}
fn set_d_iq4_nl(b: &mut BlockIQ4_NL, d: [u8; 2]) {
    b.d = d;
}
fn set_d_iq4_xs(b: &mut BlockIQ4_XS, d: [u8; 2]) {
    b.d = d;
}

/// Checks one dot-product kernel of every available tier against the scalar table's.
macro_rules! check_all_tiers {
    ($method:ident, $ty:expr, $w:expr, $a:expr, $bound:expr) => {{
        let want = KernelTable::scalar().$method(&$w, &$a).unwrap();
        for t in available_tables() {
            let got = t.$method(&$w, &$a).unwrap();
            assert_close($ty, t.tier(), got, want, $bound, REL);
        }
    }};
}

/// A row of `n` finite f16 values (any finite bit pattern, as the scales).
fn f16_row(n: usize) -> impl Strategy<Value = Vec<[u8; 2]>> {
    prop::collection::vec(f16_scale(), n)
}

/// A row of `n` bf16 values of magnitude below 1e4 (products cannot overflow).
fn bf16_row(n: usize) -> impl Strategy<Value = Vec<[u8; 2]>> {
    prop::collection::vec(
        prop_oneof![4 => -1.0e4f32..1.0e4, 1 => -1.0e-3f32..1.0e-3]
            .prop_map(|v| ((v.to_bits() >> 16) as u16).to_le_bytes()),
        n,
    )
}

proptest! {
    #![proptest_config(config(64))]

    #[test]
    fn q5_0(
        (w, a) in (1usize..64).prop_flat_map(|n| (
            blocks(n, f16_scale(), set_d_q5_0),
            blocks(n, f16_scale(), set_d_q8_0),
        ))
    ) {
        let bound = bound_dequantized(GgmlType::Q5_0, &w, GgmlType::Q8_0, &a);
        check_all_tiers!(vec_dot_q5_0_q8_0, GgmlType::Q5_0, w, a, bound);
    }

    #[test]
    fn q5_1(
        (w, a) in (1usize..64).prop_flat_map(|n| (
            blocks(n, (f16_scale(), f16_scale()), set_dm_q5_1),
            blocks(n, (f16_scale(), f16_scale()), set_ds_q8_1),
        ))
    ) {
        check_all_tiers!(vec_dot_q5_1_q8_1, GgmlType::Q5_1, w, a, bound_q5_1(&w, &a));
    }

    #[test]
    fn q2_k(
        (w, a) in (1usize..16).prop_flat_map(|n| (
            blocks(n, (f16_scale(), f16_scale()), set_dd_q2_k),
            blocks(n, f32_scale(), set_d_q8_k),
        ))
    ) {
        check_all_tiers!(vec_dot_q2_k_q8_k, GgmlType::Q2_K, w, a, bound_q2_k(&w, &a));
    }

    #[test]
    fn q3_k(
        (w, a) in (1usize..16).prop_flat_map(|n| (
            blocks(n, f16_scale(), set_d_q3_k),
            blocks(n, f32_scale(), set_d_q8_k),
        ))
    ) {
        let bound = bound_dequantized(GgmlType::Q3_K, &w, GgmlType::Q8_K, &a);
        check_all_tiers!(vec_dot_q3_k_q8_k, GgmlType::Q3_K, w, a, bound);
    }

    #[test]
    fn q5_k(
        (w, a) in (1usize..16).prop_flat_map(|n| (
            blocks(n, (f16_scale(), f16_scale()), set_dd_q5_k),
            blocks(n, f32_scale(), set_d_q8_k),
        ))
    ) {
        check_all_tiers!(vec_dot_q5_k_q8_k, GgmlType::Q5_K, w, a, bound_q5_k(&w, &a));
    }

    #[test]
    fn iq4_nl(
        (w, a) in (1usize..64).prop_flat_map(|n| (
            blocks(n, f16_scale(), set_d_iq4_nl),
            blocks(n, f16_scale(), set_d_q8_0),
        ))
    ) {
        let bound = bound_dequantized(GgmlType::IQ4_NL, &w, GgmlType::Q8_0, &a);
        check_all_tiers!(vec_dot_iq4_nl_q8_0, GgmlType::IQ4_NL, w, a, bound);
    }

    #[test]
    fn iq4_xs(
        (w, a) in (1usize..16).prop_flat_map(|n| (
            blocks(n, f16_scale(), set_d_iq4_xs),
            blocks(n, f32_scale(), set_d_q8_k),
        ))
    ) {
        let bound = bound_dequantized(GgmlType::IQ4_XS, &w, GgmlType::Q8_K, &a);
        check_all_tiers!(vec_dot_iq4_xs_q8_k, GgmlType::IQ4_XS, w, a, bound);
    }

    #[test]
    fn f16_dot((w, x) in (0usize..300).prop_flat_map(|n| (f16_row(n), f16_row(n)))) {
        let bound = bound_dequantized(GgmlType::F16, &w, GgmlType::F16, &x);
        check_all_tiers!(vec_dot_f16, GgmlType::F16, w, x, bound);
    }

    #[test]
    fn bf16_dot((w, x) in (0usize..300).prop_flat_map(|n| (bf16_row(n), bf16_row(n)))) {
        let bound = bound_dequantized(GgmlType::BF16, &w, GgmlType::BF16, &x);
        check_all_tiers!(vec_dot_bf16, GgmlType::BF16, w, x, bound);
    }

    #[test]
    fn q4_0(
        (w, a) in (1usize..64).prop_flat_map(|n| (
            blocks(n, f16_scale(), set_d_q4_0),
            blocks(n, f16_scale(), set_d_q8_0),
        ))
    ) {
        let want = KernelTable::scalar().vec_dot_q4_0_q8_0(&w, &a).unwrap();
        for t in available_tables() {
            let got = t.vec_dot_q4_0_q8_0(&w, &a).unwrap();
            assert_close(GgmlType::Q4_0, t.tier(), got, want, bound_q4_0(&w, &a), REL);
        }
    }

    #[test]
    fn q4_1(
        (w, a) in (1usize..64).prop_flat_map(|n| (
            blocks(n, (f16_scale(), f16_scale()), set_dm_q4_1),
            blocks(n, (f16_scale(), f16_scale()), set_ds_q8_1),
        ))
    ) {
        let want = KernelTable::scalar().vec_dot_q4_1_q8_1(&w, &a).unwrap();
        for t in available_tables() {
            let got = t.vec_dot_q4_1_q8_1(&w, &a).unwrap();
            assert_close(GgmlType::Q4_1, t.tier(), got, want, bound_q4_1(&w, &a), REL);
        }
    }

    #[test]
    fn q8_0(
        (w, a) in (1usize..64).prop_flat_map(|n| (
            blocks(n, f16_scale(), set_d_q8_0),
            blocks(n, f16_scale(), set_d_q8_0),
        ))
    ) {
        let want = KernelTable::scalar().vec_dot_q8_0_q8_0(&w, &a).unwrap();
        for t in available_tables() {
            let got = t.vec_dot_q8_0_q8_0(&w, &a).unwrap();
            assert_close(GgmlType::Q8_0, t.tier(), got, want, bound_q8_0(&w, &a), REL);
        }
    }

    #[test]
    fn q4_k(
        (w, a) in (1usize..16).prop_flat_map(|n| (
            blocks(n, (f16_scale(), f16_scale()), set_dd_q4_k),
            blocks(n, f32_scale(), set_d_q8_k),
        ))
    ) {
        let want = KernelTable::scalar().vec_dot_q4_k_q8_k(&w, &a).unwrap();
        for t in available_tables() {
            let got = t.vec_dot_q4_k_q8_k(&w, &a).unwrap();
            assert_close(GgmlType::Q4_K, t.tier(), got, want, bound_q4_k(&w, &a), REL);
        }
    }

    #[test]
    fn q6_k(
        (w, a) in (1usize..16).prop_flat_map(|n| (
            blocks(n, f16_scale(), set_d_q6_k),
            blocks(n, f32_scale(), set_d_q8_k),
        ))
    ) {
        let want = KernelTable::scalar().vec_dot_q6_k_q8_k(&w, &a).unwrap();
        for t in available_tables() {
            let got = t.vec_dot_q6_k_q8_k(&w, &a).unwrap();
            assert_close(GgmlType::Q6_K, t.tier(), got, want, bound_q6_k(&w, &a), REL);
        }
    }

    #[test]
    fn f32_dot(w in prop::collection::vec(-1e3f32..1e3, 0..300), seed in any::<u64>()) {
        let x: Vec<f32> = (0..w.len()).map(|i| ((i as u64 ^ seed) % 1000) as f32 / 7.0 - 70.0).collect();
        let want = KernelTable::scalar().vec_dot_f32(&w, &x).unwrap();
        let bound: f64 = w.iter().zip(&x).map(|(a, b)| f64::from(*a * *b).abs()).sum();
        for t in available_tables() {
            let got = t.vec_dot_f32(&w, &x).unwrap();
            assert_close(GgmlType::F32, t.tier(), got, want, bound, REL);
        }
    }

    /// The SIMD Q8_0 activation quantizer is bit-exact with edge-quant's reference, also
    /// for zeros, subnormals, huge values, infinities and NaNs.
    #[test]
    fn quantize_q8_0_bit_exact(
        x in (1usize..20).prop_flat_map(|n| prop::collection::vec(prop_oneof![
            6 => -10.0f32..10.0,
            1 => prop::sample::select(vec![0.0f32, -0.0, 1e-40, -1e-45, 3e38, -3e38,
                f32::INFINITY, f32::NEG_INFINITY, f32::NAN, 0.5, -0.5, 2.5]),
            1 => any::<f32>(),
        ], n * 32))
    ) {
        let n = x.len() / 32;
        let mut want = vec![0u8; n * 34];
        edge_quant::quantize(GgmlType::Q8_0, &x, &mut want).unwrap();
        for t in available_tables() {
            let mut got = vec![BlockQ8_0 { d: [0; 2], qs: [0; 32] }; n];
            t.quantize_row_q8_0(&x, &mut got).unwrap();
            prop_assert_eq!(bytemuck::cast_slice::<BlockQ8_0, u8>(&got), &want[..], "tier {}", t.tier());
        }
    }
}

proptest! {
    #![proptest_config(config(64))]

    /// Activations for Q4_1/Q5_1 weights (Q8_1, through the tier's Q8_0 quantizer) are
    /// bit-exact with edge-quant's reference Q8_1 quantizer, NaNs and infinities included.
    #[test]
    fn quantize_q8_1_bit_exact(
        x in (1usize..20).prop_flat_map(|n| prop::collection::vec(prop_oneof![
            6 => -10.0f32..10.0,
            1 => prop::sample::select(vec![0.0f32, -0.0, 1e-40, -1e-45, 3e38, -3e38,
                f32::INFINITY, f32::NEG_INFINITY, f32::NAN, 0.5, -0.5, 2.5]),
            1 => any::<f32>(),
        ], n * 32))
    ) {
        let n = x.len() / 32;
        let mut want = vec![0u8; n * 36];
        edge_quant::quantize(GgmlType::Q8_1, &x, &mut want).unwrap();
        for t in available_tables() {
            let mut got = vec![0u8; n * 36];
            t.quantize_activation(GgmlType::Q4_1, &x, &mut got).unwrap();
            prop_assert_eq!(&got, &want, "tier {}", t.tier());
        }
    }
}

/// Rounding ties and the largest magnitudes, which random data rarely hits exactly.
#[test]
fn quantize_q8_0_ties() {
    let mut x = [0f32; 32];
    x[0] = 127.0;
    for (i, v) in x.iter_mut().enumerate().skip(1) {
        *v = i as f32 - 16.5;
    }
    let mut want = vec![0u8; 34];
    edge_quant::quantize(GgmlType::Q8_0, &x, &mut want).unwrap();
    for t in available_tables() {
        let mut got = [BlockQ8_0 {
            d: [0; 2],
            qs: [0; 32],
        }];
        t.quantize_row_q8_0(&x, &mut got).unwrap();
        assert_eq!(bytemuck::bytes_of(&got[0]), &want[..], "tier {}", t.tier());
    }
}

proptest! {
    #![proptest_config(config(64))]

    /// The Q8_K activation quantizer (for K-quant and IQ4_XS weights) is bit-exact with
    /// edge-quant's reference on every tier: zeros, subnormals, huge values, infinities
    /// and NaNs included, and blocks whose largest magnitude occurs with both signs.
    #[test]
    fn quantize_q8_k_bit_exact(
        x in (1usize..5).prop_flat_map(|n| prop::collection::vec(prop_oneof![
            6 => -10.0f32..10.0,
            1 => prop::sample::select(vec![0.0f32, -0.0, 1e-40, -1e-45, 3e38, -3e38,
                f32::INFINITY, f32::NEG_INFINITY, f32::NAN, 0.5, -0.5, 2.5, 10.0, -10.0]),
            1 => any::<f32>(),
        ], n * 256))
    ) {
        let n = x.len() / 256;
        let mut want = vec![0u8; n * 292];
        edge_quant::quantize(GgmlType::Q8_K, &x, &mut want).unwrap();
        for t in available_tables() {
            let mut got = vec![0u8; n * 292];
            t.quantize_activation(GgmlType::Q4_K, &x, &mut got).unwrap();
            prop_assert_eq!(&got, &want, "tier {}", t.tier());
        }
    }
}

/// Q8_K blocks random data rarely produces: all zeros, only subnormals (`iscale`
/// overflows), the largest magnitude with both signs, rounding ties.
#[test]
fn quantize_q8_k_edge_blocks() {
    let mut blocks: Vec<[f32; 256]> = vec![[0.0; 256], [-0.0; 256], [1e-45; 256]];
    let mut both = [0.0f32; 256];
    both[7] = -3.0;
    both[3] = 3.0;
    both[200] = -3.0;
    blocks.push(both);
    let mut ties = [0.0f32; 256];
    ties[0] = 127.0;
    for (i, v) in ties.iter_mut().enumerate().skip(1) {
        *v = (i % 64) as f32 - 31.5;
    }
    blocks.push(ties);
    let mut tiny = [0.0f32; 256];
    tiny[100] = -1e-40;
    tiny[5] = 1e-41;
    blocks.push(tiny);
    let x: Vec<f32> = blocks.concat();
    let mut want = vec![0u8; blocks.len() * 292];
    edge_quant::quantize(GgmlType::Q8_K, &x, &mut want).unwrap();
    for t in available_tables() {
        let mut got = vec![<BlockQ8K as bytemuck::Zeroable>::zeroed(); blocks.len()];
        t.quantize_row_q8_k(&x, &mut got).unwrap();
        assert_eq!(
            bytemuck::cast_slice::<BlockQ8K, u8>(&got),
            &want[..],
            "tier {}",
            t.tier()
        );
    }
}

/// K-quant blocks at the extremes of every packing (all quant and scale bits clear, all
/// set, alternating), with f16 scales from 0 and subnormal to ±65504 and activations
/// filled with -128, 127, 0 or -1 (their stored sums consistent): every tier agrees with
/// the scalar reference, and blocks whose bytes are all zero give exactly 0.
#[test]
fn k_quant_extreme_blocks() {
    let fills = [0x00u8, 0xff, 0xaa, 0x55, 0x80, 0x7f];
    let acts = [-128i8, 127, 0, -1];
    let f16s = [0x0000u16, 0x0001, 0x3c00, 0x7bff, 0xfbff].map(u16::to_le_bytes);
    for fa in acts {
        for da in [1.0f32, 1.0e20, -1.0e-30] {
            let mut a: BlockQ8K = bytemuck::Zeroable::zeroed();
            a.d = da.to_le_bytes();
            a.qs = [fa as u8; 256];
            a.bsums = [(16 * i16::from(fa)).to_le_bytes(); 16];
            let a = [a; 3];
            for fw in fills {
                for d in f16s {
                    for dmin in f16s {
                        let mut w4: BlockQ4K = bytemuck::Zeroable::zeroed();
                        (w4.d, w4.dmin, w4.scales, w4.qs) = (d, dmin, [fw; 12], [fw; 128]);
                        let mut w5: BlockQ5K = bytemuck::Zeroable::zeroed();
                        (w5.d, w5.dmin, w5.scales) = (d, dmin, [fw; 12]);
                        (w5.qh, w5.qs) = ([fw; 32], [fw; 128]);
                        let (w4, w5) = ([w4; 3], [w5; 3]);
                        let want4 = KernelTable::scalar().vec_dot_q4_k_q8_k(&w4, &a).unwrap();
                        let want5 = KernelTable::scalar().vec_dot_q5_k_q8_k(&w5, &a).unwrap();
                        for t in available_tables() {
                            let got = t.vec_dot_q4_k_q8_k(&w4, &a).unwrap();
                            assert_close(
                                GgmlType::Q4_K,
                                t.tier(),
                                got,
                                want4,
                                bound_q4_k(&w4, &a),
                                REL,
                            );
                            let got = t.vec_dot_q5_k_q8_k(&w5, &a).unwrap();
                            assert_close(
                                GgmlType::Q5_K,
                                t.tier(),
                                got,
                                want5,
                                bound_q5_k(&w5, &a),
                                REL,
                            );
                            if fw == 0 {
                                assert_eq!(t.vec_dot_q4_k_q8_k(&w4, &a).unwrap(), 0.0);
                                assert_eq!(got, 0.0, "{}", t.tier());
                            }
                        }
                    }
                    let mut w6: BlockQ6K = bytemuck::Zeroable::zeroed();
                    (w6.d, w6.ql, w6.qh, w6.scales) = (d, [fw; 128], [fw; 64], [fw; 16]);
                    let w6 = [w6; 3];
                    let want = KernelTable::scalar().vec_dot_q6_k_q8_k(&w6, &a).unwrap();
                    for t in available_tables() {
                        let got = t.vec_dot_q6_k_q8_k(&w6, &a).unwrap();
                        assert_close(
                            GgmlType::Q6_K,
                            t.tier(),
                            got,
                            want,
                            bound_q6_k(&w6, &a),
                            REL,
                        );
                        if fw == 0 {
                            assert_eq!(got, 0.0, "{}", t.tier());
                        }
                    }
                }
            }
        }
    }
}

/// Rows of no blocks give exactly 0 on every tier (the K-quant row kernels lay out an
/// empty activation row and sum nothing).
#[test]
fn k_quant_empty_rows_are_zero() {
    let a: [BlockQ8K; 0] = [];
    for t in available_tables() {
        let tier = t.tier();
        let w4: [BlockQ4K; 0] = [];
        let w5: [BlockQ5K; 0] = [];
        let w6: [BlockQ6K; 0] = [];
        assert_eq!(t.vec_dot_q4_k_q8_k(&w4, &a).unwrap(), 0.0, "{tier}");
        assert_eq!(t.vec_dot_q5_k_q8_k(&w5, &a).unwrap(), 0.0, "{tier}");
        assert_eq!(t.vec_dot_q6_k_q8_k(&w6, &a).unwrap(), 0.0, "{tier}");
    }
}

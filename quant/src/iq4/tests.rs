//! Tests of IQ4_NL / IQ4_XS: blocks worked out by hand from the format definition, gguf-py's
//! decoding and llama.cpp's encoding of committed golden blocks, and properties.

use super::*;
use crate::GgmlType;
use proptest::prelude::*;

fn f32s(bytes: &[u8]) -> Vec<f32> {
    bytes
        .chunks_exact(4)
        .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
        .collect()
}

fn quantize(ty: GgmlType, x: &[f32]) -> Vec<u8> {
    let mut out = vec![0u8; x.len() / ty.block_size() * ty.type_size()];
    match ty {
        GgmlType::IQ4_NL => quantize_iq4_nl(x, &mut out),
        _ => quantize_iq4_xs(x, &mut out),
    }
    out
}

fn dequantize(ty: GgmlType, raw: &[u8]) -> Vec<f32> {
    let mut out = vec![0f32; raw.len() / ty.type_size() * ty.block_size()];
    match ty {
        GgmlType::IQ4_NL => dequantize_iq4_nl(raw, &mut out),
        _ => dequantize_iq4_xs(raw, &mut out),
    }
    out
}

/// Bytes of a sub-block whose element j is level j and element j + 16 is level 15 - j.
fn ramp_nibbles() -> Vec<u8> {
    (0..16u8).map(|j| j | ((15 - j) << 4)).collect()
}

/// The values `scale * KVALUES` in the order of [`ramp_nibbles`].
fn ramp_values(scale: f32) -> Vec<f32> {
    let k = |i: usize| scale * f32::from(KVALUES[i]);
    (0..16).map(k).chain((0..16).map(|j| k(15 - j))).collect()
}

#[test]
fn block_sizes_match_the_type_table() {
    assert_eq!(
        std::mem::size_of::<BlockIQ4_NL>(),
        GgmlType::IQ4_NL.type_size()
    );
    assert_eq!(
        std::mem::size_of::<BlockIQ4_XS>(),
        GgmlType::IQ4_XS.type_size()
    );
    assert_eq!(QK4_NL, GgmlType::IQ4_NL.block_size());
    assert_eq!(QK_K, GgmlType::IQ4_XS.block_size());
    assert_eq!(std::mem::align_of::<BlockIQ4_NL>(), 1);
    assert_eq!(std::mem::align_of::<BlockIQ4_XS>(), 1);
}

/// d = 1 (f16 0x3c00): every element is its table level.
#[test]
fn nl_dequantize_by_hand() {
    let mut raw = vec![0x00, 0x3c];
    raw.extend(ramp_nibbles());
    assert_eq!(dequantize(GgmlType::IQ4_NL, &raw), ramp_values(1.0));
}

/// d = 0.5 (0x3800), all indices 15 (level 113), and the eight 6-bit scales
/// ls = [0, 33, 31, 63, 32, 16, 48, 1], i.e. ls - 32 = [-32, 1, -1, 31, 0, -16, 16, -31].
/// scales_l byte k = (ls[2k] & 15) | (ls[2k+1] & 15) << 4 = [0x10, 0xff, 0x00, 0x10];
/// scales_h = sum of (ls[ib] >> 4) << 2ib with ls >> 4 = [0, 2, 1, 3, 2, 1, 3, 0],
/// = 8 + 16 + 192 + 512 + 1024 + 12288 = 0x36d8.
#[test]
fn xs_dequantize_by_hand() {
    let mut raw = vec![0x00, 0x38, 0xd8, 0x36, 0x10, 0xff, 0x00, 0x10];
    raw.extend([0xff; 128]);
    let block: &BlockIQ4_XS = bytemuck::from_bytes(&raw);
    let signed = [-32, 1, -1, 31, 0, -16, 16, -31];
    for (ib, s) in signed.iter().enumerate() {
        assert_eq!(block.sub_scale(ib), *s, "sub-block {ib}");
    }
    let y = dequantize(GgmlType::IQ4_XS, &raw);
    for (ib, s) in signed.iter().enumerate() {
        let expected = 0.5 * *s as f32 * 113.0;
        assert!(
            y[32 * ib..32 * ib + 32].iter().all(|v| *v == expected),
            "sub-block {ib}"
        );
    }
}

/// Values exactly on the grid, `0.5 * KVALUES`: the trial `id = (0 - 127) / max` with
/// max = 0.5 * -127 is exactly 2, every element lands on its level, and the least-squares
/// scale is exactly 0.5 (the sums differ by the power of two only). No other trial can
/// fit better, so d = 0.5 (0x3800) and the indices are the levels.
#[test]
fn nl_quantize_by_hand_exact_grid() {
    let raw = quantize(GgmlType::IQ4_NL, &ramp_values(0.5));
    let mut expected = vec![0x00, 0x38];
    expected.extend(ramp_nibbles());
    assert_eq!(raw, expected);
}

/// All zeros: every sub-block is below GROUP_MAX_EPS so its scale is 0, the super-block
/// scale is -0 / 32 = -0 (f16 0x8000), each 6-bit scale is 0 + 32 (low nibble 0, high
/// bits 0b10, so scales_h = 0xaaaa), and each index is the level nearest 0: 1, index 8.
#[test]
fn xs_quantize_by_hand_zeros() {
    let raw = quantize(GgmlType::IQ4_XS, &[0.0; QK_K]);
    let mut expected = vec![0x00, 0x80, 0xaa, 0xaa, 0, 0, 0, 0];
    expected.extend([0x88; 128]);
    assert_eq!(raw, expected);
    // IQ4_NL stores the same indices with scale +0.
    let raw = quantize(GgmlType::IQ4_NL, &[0.0; QK4_NL]);
    assert_eq!(raw[..2], [0, 0]);
    assert_eq!(raw[2..], [0x88; 16]);
}

/// Sub-blocks on the grid with scales s = [1, 0.5, 0.25, 0.75, 1, 1, 1, 1]: each fits its
/// s, the largest is 1, so d = -1/32 (f16 0xa800) and l = round(-32 s) = [-32, -16, -8,
/// -24, -32, ...], stored + 32 as [0, 16, 24, 8, 0, 0, 0, 0]: scales_l = [0x00, 0x88, 0,
/// 0], scales_h = 1 << 2 | 1 << 4 = 0x14. d * l gives back s, so indices are the levels.
#[test]
fn xs_quantize_by_hand_exact_grid() {
    let s = [1.0, 0.5, 0.25, 0.75, 1.0, 1.0, 1.0, 1.0];
    let x: Vec<f32> = s.iter().flat_map(|&s| ramp_values(s)).collect();
    let raw = quantize(GgmlType::IQ4_XS, &x);
    let mut expected = vec![0x00, 0xa8, 0x14, 0x00, 0x00, 0x88, 0x00, 0x00];
    for _ in 0..8 {
        expected.extend(ramp_nibbles());
    }
    assert_eq!(raw, expected);
    assert_eq!(dequantize(GgmlType::IQ4_XS, &raw), x);
}

#[test]
fn best_index_by_hand() {
    for (i, &k) in KVALUES.iter().enumerate() {
        assert_eq!(best_index(f32::from(k)), i);
    }
    // -4.5 is half-way between -10 and 1: ties go up.
    assert_eq!(best_index(-4.5), 8);
    assert_eq!(best_index(-4.6), 7);
    assert_eq!(best_index(0.0), 8);
    assert_eq!(best_index(-1e9), 0);
    assert_eq!(best_index(1e9), 15);
    assert_eq!(best_index(f32::NAN), 15);
}

#[test]
fn nearest_int_ties_to_even() {
    assert_eq!(nearest_int(2.5), 2);
    assert_eq!(nearest_int(3.5), 4);
    assert_eq!(nearest_int(-2.5), -2);
    assert_eq!(nearest_int(-31.6), -32);
    assert_eq!(nearest_int(0.49), 0);
}

/// gguf-py's decoding of seeded random blocks (`quant/tests/refgen/iq4_dequant.py`).
#[test]
fn dequantize_matches_gguf_py() {
    let cases: [(GgmlType, &[u8], &[u8]); 2] = [
        (
            GgmlType::IQ4_NL,
            include_bytes!("../../tests/golden/iq4_nl.blocks.bin"),
            include_bytes!("../../tests/golden/iq4_nl.f32.bin"),
        ),
        (
            GgmlType::IQ4_XS,
            include_bytes!("../../tests/golden/iq4_xs.blocks.bin"),
            include_bytes!("../../tests/golden/iq4_xs.f32.bin"),
        ),
    ];
    for (ty, blocks, expected) in cases {
        let ours = dequantize(ty, blocks);
        let theirs = f32s(expected);
        assert_eq!(ours.len(), theirs.len(), "{ty}");
        for (i, (a, b)) in ours.iter().zip(&theirs).enumerate() {
            assert_eq!(
                a.to_bits(),
                b.to_bits(),
                "{ty} element {i}: {a:e} vs gguf-py {b:e}"
            );
        }
    }
}

/// llama.cpp's encoding of the rows in `iq4_quant.f32.bin`
/// (`quant/tests/refgen/iq4_quantize.py`).
#[test]
fn quantize_matches_llama_cpp() {
    let x = f32s(include_bytes!("../../tests/golden/iq4_quant.f32.bin"));
    let cases: [(GgmlType, &[u8]); 2] = [
        (
            GgmlType::IQ4_NL,
            include_bytes!("../../tests/golden/iq4_quant.nl.bin"),
        ),
        (
            GgmlType::IQ4_XS,
            include_bytes!("../../tests/golden/iq4_quant.xs.bin"),
        ),
    ];
    for (ty, expected) in cases {
        let ours = quantize(ty, &x);
        assert_eq!(ours.len(), expected.len(), "{ty}");
        let size = ty.type_size();
        for (i, (a, b)) in ours
            .chunks_exact(size)
            .zip(expected.chunks_exact(size))
            .enumerate()
        {
            assert_eq!(a, b, "{ty} block {i}");
        }
    }
}

/// Gaussian data: the relative RMSE llama.cpp reaches (0.0758 for IQ4_NL, 0.0764 for
/// IQ4_XS on 32768 N(0,1) values, tests/golden/quant-rmse) with a little room for the
/// sample.
#[test]
fn gaussian_rmse() {
    // Box-Muller over a fixed LCG: deterministic without a dependency.
    let mut state = 0x2545_f491_4f6c_dd1du64;
    let mut uniform = || {
        state = state
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        ((state >> 40) as f64 + 0.5) / (1u64 << 24) as f64
    };
    let x: Vec<f32> = (0..QK_K * 64)
        .map(|_| {
            let (u, v) = (uniform(), uniform());
            ((-2.0 * u.ln()).sqrt() * (std::f64::consts::TAU * v).cos()) as f32
        })
        .collect();
    for (ty, limit) in [(GgmlType::IQ4_NL, 0.078), (GgmlType::IQ4_XS, 0.079)] {
        let y = dequantize(ty, &quantize(ty, &x));
        let se: f64 = x
            .iter()
            .zip(&y)
            .map(|(a, b)| f64::from(a - b).powi(2))
            .sum();
        let rmse = (se / x.len() as f64).sqrt();
        assert!(rmse < limit, "{ty}: rmse {rmse}");
    }
}

/// 256 values from -1..1 times a power of two, so the scales stay in f16's normal range.
fn super_block() -> impl Strategy<Value = Vec<f32>> {
    (prop::collection::vec(-1f32..1.0, QK_K), -10i32..10)
        .prop_map(|(v, e)| v.into_iter().map(|x| x * 2f32.powi(e)).collect())
}

proptest! {
    /// No error exceeds a quarter of the block's largest |x|. This is loose on purpose: a
    /// half gap of the table (at most 12 levels of ~127) or the clipping at the ends costs
    /// up to about 0.11, the LS refit and (for IQ4_XS) the 6-bit sub-scale a little more;
    /// the worst seen on uniform, gaussian, Cauchy and sparse data is 0.15.
    #[test]
    fn round_trip_within_bound(x in super_block()) {
        for (ty, group) in [(GgmlType::IQ4_NL, QK4_NL), (GgmlType::IQ4_XS, QK_K)] {
            let y = dequantize(ty, &quantize(ty, &x));
            for (xs, ys) in x.chunks_exact(group).zip(y.chunks_exact(group)) {
                let amax = xs.iter().fold(0f32, |m, v| m.max(v.abs()));
                for (a, b) in xs.iter().zip(ys) {
                    prop_assert!((a - b).abs() <= 0.25 * amax, "{}: {} -> {} (amax {})", ty, a, b, amax);
                }
            }
        }
    }

    /// Any f32 bit patterns (NaN, infinities, subnormals) quantize without panicking.
    #[test]
    fn any_input_quantizes(bits in prop::collection::vec(any::<u32>(), QK_K)) {
        let x: Vec<f32> = bits.into_iter().map(f32::from_bits).collect();
        quantize(GgmlType::IQ4_NL, &x);
        quantize(GgmlType::IQ4_XS, &x);
    }

    /// Any bytes decode without panicking, to finite values whenever the f16 scale is
    /// finite (the largest, 65504 * 32 * 127, is far from f32's limit).
    #[test]
    fn arbitrary_bytes_decode(raw in prop::collection::vec(any::<u8>(), 136 * 2)) {
        for ty in [GgmlType::IQ4_NL, GgmlType::IQ4_XS] {
            let size = ty.type_size();
            let n = raw.len() / size * size;
            let y = dequantize(ty, &raw[..n]);
            for (blk, ys) in raw[..n].chunks_exact(size).zip(y.chunks_exact(ty.block_size())) {
                if crate::float::f16_to_f32([blk[0], blk[1]]).is_finite() {
                    prop_assert!(ys.iter().all(|v| v.is_finite()), "{}", ty);
                }
            }
        }
    }
}

//! The scalar kernels agree with the f32 dot product of weights and activations decoded by
//! edge-quant's reference dequantizers (bit-exact with llama.cpp/gguf-py), which ties the
//! kernels' block semantics to formats we did not define here.

mod common;

use edge_kernels::{activation_type, GgmlType, KernelTable};
use proptest::prelude::*;

fn check(ty: GgmlType, w_f32: &[f32], x: &[f32], rel: f64) {
    let act = activation_type(ty).unwrap();
    let n = x.len();
    let mut w = vec![0u8; n / ty.block_size() * ty.type_size()];
    edge_quant::quantize(ty, w_f32, &mut w).unwrap();
    let mut a = vec![0u8; n / act.block_size() * act.type_size()];
    KernelTable::scalar()
        .quantize_activation(ty, x, &mut a)
        .unwrap();

    let (mut wd, mut ad) = (vec![0f32; n], vec![0f32; n]);
    edge_quant::dequantize(ty, &w, &mut wd).unwrap();
    edge_quant::dequantize(act, &a, &mut ad).unwrap();
    let want: f64 = wd
        .iter()
        .zip(&ad)
        .map(|(p, q)| f64::from(*p) * f64::from(*q))
        .sum();
    let mag: f64 = wd
        .iter()
        .zip(&ad)
        .map(|(p, q)| (f64::from(*p) * f64::from(*q)).abs())
        .sum();

    for t in common::available_tables() {
        let got = f64::from(t.vec_dot(ty, &w, &a).unwrap());
        assert!(
            (got - want).abs() <= rel * mag + 1e-30,
            "{ty:?} on {}: kernel {got:e}, dequantized dot {want:e}, magnitude {mag:e}",
            t.tier()
        );
    }
}

fn row(n_blocks_256: usize) -> impl Strategy<Value = (Vec<f32>, Vec<f32>)> {
    let n = n_blocks_256 * 256;
    (
        prop::collection::vec(-2.0f32..2.0, n),
        prop::collection::vec(-5.0f32..5.0, n),
    )
}

proptest! {
    #![proptest_config(common::config(24))]

    #[test]
    fn q4_0((w, x) in (1usize..4).prop_flat_map(row)) {
        check(GgmlType::Q4_0, &w, &x, 1e-5);
    }

    /// The Q8_1 block sum `s` is stored as f16 (as in ggml), so the offset term carries a
    /// relative error of up to 2^-11 that the dequantized dot does not have.
    #[test]
    fn q4_1((w, x) in (1usize..4).prop_flat_map(row)) {
        check(GgmlType::Q4_1, &w, &x, 2e-3);
    }

    #[test]
    fn q8_0((w, x) in (1usize..4).prop_flat_map(row)) {
        check(GgmlType::Q8_0, &w, &x, 1e-5);
    }

    #[test]
    fn q4_k((w, x) in (1usize..4).prop_flat_map(row)) {
        check(GgmlType::Q4_K, &w, &x, 1e-5);
    }

    #[test]
    fn q6_k((w, x) in (1usize..4).prop_flat_map(row)) {
        check(GgmlType::Q6_K, &w, &x, 1e-5);
    }

    #[test]
    fn q5_0((w, x) in (1usize..4).prop_flat_map(row)) {
        check(GgmlType::Q5_0, &w, &x, 1e-5);
    }

    /// The Q8_1 block sum is stored as f16, as for Q4_1.
    #[test]
    fn q5_1((w, x) in (1usize..4).prop_flat_map(row)) {
        check(GgmlType::Q5_1, &w, &x, 2e-3);
    }

    #[test]
    fn q2_k((w, x) in (1usize..4).prop_flat_map(row)) {
        check(GgmlType::Q2_K, &w, &x, 1e-5);
    }

    #[test]
    fn q3_k((w, x) in (1usize..4).prop_flat_map(row)) {
        check(GgmlType::Q3_K, &w, &x, 1e-5);
    }

    #[test]
    fn q5_k((w, x) in (1usize..4).prop_flat_map(row)) {
        check(GgmlType::Q5_K, &w, &x, 1e-5);
    }

    #[test]
    fn iq4_nl((w, x) in (1usize..4).prop_flat_map(row)) {
        check(GgmlType::IQ4_NL, &w, &x, 1e-5);
    }

    #[test]
    fn iq4_xs((w, x) in (1usize..4).prop_flat_map(row)) {
        check(GgmlType::IQ4_XS, &w, &x, 1e-5);
    }

    /// The activations are rounded to f16 (as ggml does), and so are the dequantized
    /// activations compared against: only the summation order differs.
    #[test]
    fn f16((w, x) in (1usize..4).prop_flat_map(row)) {
        check(GgmlType::F16, &w, &x, 1e-5);
    }

    #[test]
    fn bf16((w, x) in (1usize..4).prop_flat_map(row)) {
        check(GgmlType::BF16, &w, &x, 1e-5);
    }
}

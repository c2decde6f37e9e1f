//! Property tests over all K-quant formats: no input makes a converter panic, and
//! ordinary rows round-trip within each format's error budget.

use super::test_util::{rel_rmse, round_trip, DequantFn, QuantFn};
use super::*;
use proptest::prelude::*;

/// (name, quantize, dequantize, block bytes, relative-RMSE budget on uniform rows).
///
/// The budgets are for uniform data, whose flat distribution suits the
/// grids better than a gaussian does; they are loose upper bounds, not targets.
const FORMATS: [(&str, QuantFn, DequantFn, usize, f64); 6] = [
    ("q2_k", quantize_q2_k, dequantize_q2_k, 84, 0.45),
    ("q3_k", quantize_q3_k, dequantize_q3_k, 110, 0.25),
    ("q4_k", quantize_q4_k, dequantize_q4_k, 144, 0.12),
    ("q5_k", quantize_q5_k, dequantize_q5_k, 176, 0.06),
    ("q6_k", quantize_q6_k, dequantize_q6_k, 210, 0.03),
    ("q8_k", quantize_q8_k, dequantize_q8_k, 292, 0.01),
];

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn dequantize_arbitrary_bytes_never_panics(bytes in prop::collection::vec(any::<u8>(), 0..1200)) {
        for (_, _, dq, size, _) in FORMATS {
            let nblocks = bytes.len() / size;
            let mut out = vec![0.0f32; nblocks * QK_K];
            dq(&bytes[..nblocks * size], &mut out);
            // Mismatched lengths are not an error here either: whole blocks only.
            let mut short = vec![0.0f32; QK_K / 2];
            dq(&bytes, &mut short);
        }
    }

    #[test]
    fn quantize_arbitrary_floats_never_panics(
        x in prop::collection::vec(any::<f32>(), QK_K..=QK_K),
    ) {
        // Any bit pattern, NaN and infinities included: the output is garbage in, garbage
        // out, but nothing may panic.
        for (_, q, dq, size, _) in FORMATS {
            let _ = round_trip(q, dq, size, &x);
        }
    }

    #[test]
    fn uniform_rows_round_trip(
        x in prop::collection::vec(-1.0f32..1.0, 2 * QK_K..=2 * QK_K),
        exp in -12i32..12,
    ) {
        let scale = 2f32.powi(exp);
        let x: Vec<f32> = x.iter().map(|v| v * scale).collect();
        for (name, q, dq, size, budget) in FORMATS {
            let y = round_trip(q, dq, size, &x);
            prop_assert!(y.iter().all(|v| v.is_finite()), "{}: non-finite", name);
            let r = rel_rmse(&x, &y);
            prop_assert!(r < budget, "{}: relative RMSE {} (scale {})", name, r, scale);
        }
    }

    #[test]
    fn sparse_rows_round_trip(
        x in prop::collection::vec(prop_oneof![3 => Just(0.0f32), 1 => -100.0f32..100.0], QK_K..=QK_K),
    ) {
        // Mostly zeros with a few values: exercises constant and near-empty sub-blocks.
        for (name, q, dq, size, _) in FORMATS {
            let y = round_trip(q, dq, size, &x);
            prop_assert!(y.iter().all(|v| v.is_finite()), "{}: non-finite", name);
            if x.iter().all(|&v| v == 0.0) {
                prop_assert!(y.iter().all(|&v| v == 0.0), "{}: zeros", name);
            }
        }
    }
}

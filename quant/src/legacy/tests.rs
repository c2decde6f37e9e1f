//! Tests of the legacy formats: blocks worked out by hand from the format definitions,
//! round-trip error bounds, and decoding of arbitrary bytes.
//!
//! Bit-exactness against gguf-py and llama.cpp on large inputs is checked by the
//! workspace's golden-file tests (`tests/tests/quant_goldens.rs`).

use super::*;
use crate::float::f16_to_f32;
use crate::GgmlType;
use proptest::prelude::*;

type Quantize = fn(&[f32], &mut [u8]);
type Dequantize = fn(&[u8], &mut [f32]);

/// The legacy formats with their converters, block sizes and block byte sizes.
const FORMATS: [(GgmlType, Quantize, Dequantize, usize); 6] = [
    (
        GgmlType::Q4_0,
        quantize_q4_0,
        dequantize_q4_0,
        std::mem::size_of::<BlockQ4_0>(),
    ),
    (
        GgmlType::Q4_1,
        quantize_q4_1,
        dequantize_q4_1,
        std::mem::size_of::<BlockQ4_1>(),
    ),
    (
        GgmlType::Q5_0,
        quantize_q5_0,
        dequantize_q5_0,
        std::mem::size_of::<BlockQ5_0>(),
    ),
    (
        GgmlType::Q5_1,
        quantize_q5_1,
        dequantize_q5_1,
        std::mem::size_of::<BlockQ5_1>(),
    ),
    (
        GgmlType::Q8_0,
        quantize_q8_0,
        dequantize_q8_0,
        std::mem::size_of::<BlockQ8_0>(),
    ),
    (
        GgmlType::Q8_1,
        quantize_q8_1,
        dequantize_q8_1,
        std::mem::size_of::<BlockQ8_1>(),
    ),
];

fn quantize_one(q: Quantize, size: usize, x: &[f32]) -> Vec<u8> {
    let mut out = vec![0u8; x.len() / QK * size];
    q(x, &mut out);
    out
}

fn dequantize_one(d: Dequantize, raw: &[u8], size: usize) -> Vec<f32> {
    let mut out = vec![0f32; raw.len() / size * QK];
    d(raw, &mut out);
    out
}

#[test]
fn block_sizes_match_the_type_table() {
    for (ty, _, _, size) in FORMATS {
        assert_eq!(size, ty.type_size(), "{ty}");
        assert_eq!(QK, ty.block_size(), "{ty}");
    }
    // Alignment 1 is what lets any byte slice, wherever it starts, be cast to blocks.
    let aligns = [
        std::mem::align_of::<BlockQ4_0>(),
        std::mem::align_of::<BlockQ4_1>(),
        std::mem::align_of::<BlockQ5_0>(),
        std::mem::align_of::<BlockQ5_1>(),
        std::mem::align_of::<BlockQ8_0>(),
        std::mem::align_of::<BlockQ8_1>(),
    ];
    assert_eq!(aligns, [1; 6]);
}

/// Q4_0, the element of largest magnitude negative: x = -8..=7 then sixteen zeros.
/// max = -8, so d = -8 / -8 = 1 (f16 0x3c00) and q = trunc(x + 8.5) = x + 8: the first
/// sixteen quants are 0..=15, the zeros are 8. Byte j = q[j] | q[j + 16] << 4 = 0x80 + j.
#[test]
fn q4_0_by_hand_negative_max() {
    let mut x = [0f32; 32];
    for (j, v) in x.iter_mut().take(16).enumerate() {
        *v = j as f32 - 8.0;
    }
    let raw = quantize_one(quantize_q4_0, 18, &x);
    let mut expected = vec![0x00, 0x3c];
    expected.extend((0..16).map(|j| 0x80 + j as u8));
    assert_eq!(raw, expected);
    assert_eq!(dequantize_one(dequantize_q4_0, &raw, 18), x);
}

/// Q4_0, the element of largest magnitude positive: max = 4, d = -0.5 (f16 0xb800),
/// 1/d = -2. x = 4 -> trunc(0.5) = 0; x = 0 -> 8; x = -2 -> trunc(12.5) = 12;
/// x = -4 -> trunc(16.5) = 16, clamped to 15, which decodes to -3.5: the one value the
/// asymmetric range cannot reach.
#[test]
fn q4_0_by_hand_positive_max_clamps() {
    let mut x = [0f32; 32];
    x[0] = 4.0;
    x[1] = -2.0;
    x[16] = -4.0;
    let raw = quantize_one(quantize_q4_0, 18, &x);
    let mut expected = vec![0x00, 0xb8];
    expected.push(15 << 4); // q[0] = 0, q[16] = 15
    expected.push(12 | (8 << 4));
    expected.extend([0x88; 14]);
    assert_eq!(raw, expected);
    let y = dequantize_one(dequantize_q4_0, &raw, 18);
    assert_eq!((y[0], y[1], y[16], y[2]), (4.0, -2.0, -3.5, 0.0));
}

/// Q4_1: x = 1 + 0.5 * (j mod 16). min = 1, max = 8.5, d = 7.5 / 15 = 0.5 (0x3800),
/// m = 1 (0x3c00), q = trunc((x - 1) * 2 + 0.5) = j mod 16, so byte j = 0x11 * j.
#[test]
fn q4_1_by_hand() {
    let x: Vec<f32> = (0..32).map(|j| 1.0 + 0.5 * (j % 16) as f32).collect();
    let raw = quantize_one(quantize_q4_1, 20, &x);
    let mut expected = vec![0x00, 0x38, 0x00, 0x3c];
    expected.extend((0..16).map(|j| 0x11 * j as u8));
    assert_eq!(raw, expected);
    assert_eq!(dequantize_one(dequantize_q4_1, &raw, 20), x);
}

/// Q5_0: x = j - 16. max = -16, d = 1, q = trunc(x + 16.5) = j. Low nibbles: byte j =
/// (j & 15) | ((j + 16) & 15) << 4 = 0x11 * j; fifth bits set exactly for j >= 16, so
/// qh = 0xffff0000, stored little-endian.
#[test]
fn q5_0_by_hand() {
    let x: Vec<f32> = (0..32).map(|j| j as f32 - 16.0).collect();
    let raw = quantize_one(quantize_q5_0, 22, &x);
    let mut expected = vec![0x00, 0x3c, 0x00, 0x00, 0xff, 0xff];
    expected.extend((0..16).map(|j| 0x11 * j as u8));
    assert_eq!(raw, expected);
    assert_eq!(dequantize_one(dequantize_q5_0, &raw, 22), x);
}

/// Q5_1: x = 2j - 10. min = -10 (f16: -1.25 * 2^3 = 0xc900), max = 52,
/// d = 62 / 31 = 2 (0x4000), q = trunc((x + 10) / 2 + 0.5) = j; nibbles and qh as Q5_0.
#[test]
fn q5_1_by_hand() {
    let x: Vec<f32> = (0..32).map(|j| 2.0 * j as f32 - 10.0).collect();
    let raw = quantize_one(quantize_q5_1, 24, &x);
    let mut expected = vec![0x00, 0x40, 0x00, 0xc9, 0x00, 0x00, 0xff, 0xff];
    expected.extend((0..16).map(|j| 0x11 * j as u8));
    assert_eq!(raw, expected);
    assert_eq!(dequantize_one(dequantize_q5_1, &raw, 24), x);
}

/// Q8_0 / Q8_1: max |x| = 127 so d = 1 and q = round(x), halves away from zero (C's
/// `roundf`, not ties-to-even): 63.5 -> 64, -0.5 -> -1, 1.5 -> 2, 2.5 -> 3, 0.49 -> 0.
/// Q8_1's s = d * sum(q) = 127 - 127 + 64 - 1 + 0 + 2 + 3 = 68 = 1.0625 * 2^6 (0x5440).
#[test]
fn q8_by_hand_rounds_half_away_from_zero() {
    let mut x = [0f32; 32];
    x[..7].copy_from_slice(&[127.0, -127.0, 63.5, -0.5, 0.49, 1.5, 2.5]);
    let q: [i8; 7] = [127, -127, 64, -1, 0, 2, 3];
    let mut qs = [0u8; 32];
    for (b, v) in qs.iter_mut().zip(q) {
        *b = v as u8;
    }

    let raw = quantize_one(quantize_q8_0, 34, &x);
    assert_eq!(raw[..2], [0x00, 0x3c]);
    assert_eq!(raw[2..], qs);

    let raw1 = quantize_one(quantize_q8_1, 36, &x);
    assert_eq!(raw1[..4], [0x00, 0x3c, 0x40, 0x54]);
    assert_eq!(raw1[4..], qs);

    let y = dequantize_one(dequantize_q8_1, &raw1, 36);
    assert_eq!(y[..7], [127.0, -127.0, 64.0, -1.0, 0.0, 2.0, 3.0]);
    assert_eq!(y, dequantize_one(dequantize_q8_0, &raw, 34));
}

/// All-zero blocks: every scale is 0 and nothing divides by zero. The signed formats
/// store d = 0 / -8 = -0 (f16 0x8000), as ggml does.
#[test]
fn zero_blocks() {
    let x = [0f32; 64];
    for (ty, q, d, size) in FORMATS {
        let raw = quantize_one(q, size, &x);
        let y = dequantize_one(d, &raw, size);
        assert!(y.iter().all(|v| *v == 0.0), "{ty}");
    }
    assert_eq!(quantize_one(quantize_q4_0, 18, &x)[..2], [0x00, 0x80]);
    assert_eq!(quantize_one(quantize_q4_0, 18, &x)[2..18], [0x88; 16]);
    assert_eq!(quantize_one(quantize_q5_0, 22, &x)[2..6], [0xff; 4]);
}

/// A block of subnormals has a scale whose reciprocal overflows to infinity; the C
/// reference then converts NaN / infinity, which x86 turns into quant 0 (the low byte of
/// 0x8000_0000). The f16 scale underflows to zero, so the block decodes to zeros.
#[test]
fn subnormal_blocks_do_not_panic_and_decode_to_zero() {
    let x: Vec<f32> = (0..32).map(|j| f32::from_bits(0x0000_1000 + j)).collect();
    for (ty, q, d, size) in FORMATS {
        let raw = quantize_one(q, size, &x);
        let y = dequantize_one(d, &raw, size);
        assert!(y.iter().all(|v| *v == 0.0), "{ty}: {y:?}");
    }
    // Q8_0: d = 2^-137 / 127 is subnormal, 1/d overflows to inf, x * inf -> quant 0.
    assert_eq!(quantize_one(quantize_q8_0, 34, &x)[2..], [0u8; 32]);
}

#[test]
fn c_cast_matches_x86() {
    assert_eq!(c_cast_to_int(f32::NAN), i32::MIN);
    assert_eq!(c_cast_to_int(f32::INFINITY), i32::MIN);
    assert_eq!(c_cast_to_int(f32::NEG_INFINITY), i32::MIN);
    assert_eq!(c_cast_to_int(3e9), i32::MIN);
    assert_eq!(c_cast_to_int(-2_147_483_648.0), i32::MIN);
    assert_eq!(c_cast_to_int(-7.9), -7);
    assert_eq!(c_cast_to_int(300.5) as u8, 44);
}

/// Largest error expected when decoding `x` after quantizing it as `ty`: the grid step
/// (a full step for the signed 4/5-bit formats, whose clamped top quant loses one), plus
/// what f16 rounding of the scale and offset adds over the whole quant range.
fn error_bound(ty: GgmlType, x: &[f32]) -> f32 {
    let amax = x.iter().fold(0f32, |m, v| m.max(v.abs()));
    let (min, max) = x
        .iter()
        .fold((f32::MAX, f32::MIN), |(a, b), v| (a.min(*v), b.max(*v)));
    // f16 rounding error of a value v: half an ulp, or half the subnormal step.
    let f16_err = |v: f32| (v.abs() * 2f32.powi(-11)).max(2f32.powi(-25));
    let slack = amax * 1e-6;
    match ty {
        GgmlType::Q4_0 => amax / 8.0 + 8.0 * f16_err(amax / 8.0) + slack,
        GgmlType::Q5_0 => amax / 16.0 + 16.0 * f16_err(amax / 16.0) + slack,
        GgmlType::Q4_1 => {
            let d = (max - min) / 15.0;
            d / 2.0 + 15.0 * f16_err(d) + f16_err(min) + slack
        }
        GgmlType::Q5_1 => {
            let d = (max - min) / 31.0;
            d / 2.0 + 31.0 * f16_err(d) + f16_err(min) + slack
        }
        _ => {
            let d = amax / 127.0;
            d / 2.0 + 127.0 * f16_err(d) + slack
        }
    }
}

/// 32 values from -1..1 times a power of two, so the scale stays in f16's normal range.
fn block() -> impl Strategy<Value = Vec<f32>> {
    (prop::collection::vec(-1f32..1.0, QK), -10i32..10)
        .prop_map(|(v, e)| v.into_iter().map(|x| x * 2f32.powi(e)).collect())
}

proptest! {
    #[test]
    fn round_trip_within_bound(x in block()) {
        for (ty, q, d, size) in FORMATS {
            let y = dequantize_one(d, &quantize_one(q, size, &x), size);
            let bound = error_bound(ty, &x);
            for (a, b) in x.iter().zip(&y) {
                prop_assert!((a - b).abs() <= bound, "{}: {} -> {} (bound {})", ty, a, b, bound);
            }
        }
    }

    #[test]
    fn q8_1_sum_is_d_times_sum_of_quants(x in block()) {
        let raw = quantize_one(quantize_q8_1, 36, &x);
        let b: &BlockQ8_1 = bytemuck::from_bytes(&raw);
        let sum: i32 = b.qs.iter().map(|&q| i32::from(q)).sum();
        let d = absmax(&x) / 127.0;
        prop_assert_eq!(b.s, crate::float::f32_to_f16(sum as f32 * d));
    }

    /// Any f32 bit patterns (NaN, infinities, subnormals) quantize without panicking.
    #[test]
    fn any_input_quantizes(bits in prop::collection::vec(any::<u32>(), QK * 2)) {
        let x: Vec<f32> = bits.into_iter().map(f32::from_bits).collect();
        for (_, q, _, size) in FORMATS {
            quantize_one(q, size, &x);
        }
    }

    /// Any bytes decode without panicking, to finite values unless a stored f16 (scale or
    /// offset) is itself infinite or NaN.
    #[test]
    fn arbitrary_bytes_decode(raw in prop::collection::vec(any::<u8>(), 36 * 4)) {
        for (ty, _, d, size) in FORMATS {
            let n = raw.len() / size;
            let y = dequantize_one(d, &raw[..n * size], size);
            for (blk, ys) in raw.chunks_exact(size).zip(y.chunks_exact(QK)) {
                // The f16 fields: d, and m or s for the `_1` formats (s is never read).
                let d_ok = f16_to_f32([blk[0], blk[1]]).is_finite();
                let m_ok = !matches!(ty, GgmlType::Q4_1 | GgmlType::Q5_1)
                    || f16_to_f32([blk[2], blk[3]]).is_finite();
                if d_ok && m_ok {
                    prop_assert!(ys.iter().all(|v| v.is_finite()), "{}", ty);
                }
            }
        }
    }
}

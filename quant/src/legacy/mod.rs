//! ggml's first-generation ("legacy") block formats: 32 elements per block, one f16 scale
//! (and for the `_1` kinds an f16 offset), 4, 5 or 8 bits per element.
//!
//! The quantizers repeat the f32 operations of ggml's `quantize_row_*_ref` in the same
//! order, so that their output is bit-identical to llama.cpp's and gguf-py's.
//!
//! All functions take whole blocks: `src` and `dst` hold the same number of blocks, as
//! [`crate::quantize`] and [`crate::dequantize`] check; a trailing partial block is
//! ignored, never read out of bounds.

mod q4;
mod q5;
mod q8;

pub use q4::{
    dequantize_q4_0, dequantize_q4_1, quantize_q4_0, quantize_q4_1, BlockQ4_0, BlockQ4_1,
};
pub use q5::{
    dequantize_q5_0, dequantize_q5_1, quantize_q5_0, quantize_q5_1, BlockQ5_0, BlockQ5_1,
};
pub use q8::{
    dequantize_q8_0, dequantize_q8_1, quantize_q8_0, quantize_q8_1, BlockQ8_0, BlockQ8_1,
};

/// Elements per block in every legacy format.
pub const QK: usize = 32;

/// Converts an f32 to an integer the way ggml's C casts (`(int8_t)v`, `(uint8_t)v`)
/// behave on x86-64, where llama.cpp and gguf-py (numpy) both run: truncation toward
/// zero to 32 bits, where NaN and out-of-range values give `i32::MIN` (the CPU's
/// "integer indefinite"), and the caller then keeps the low byte.
///
/// Such values only occur when a block's scale has no finite reciprocal (a block of
/// subnormals) or the input is not finite; mimicking the CPU keeps even those blocks
/// bit-identical with the references instead of saturating as Rust's `as` would.
#[inline]
pub(crate) fn c_cast_to_int(v: f32) -> i32 {
    // 2^31 is exactly representable; every f32 in [-2^31, 2^31) truncates into i32.
    if v.is_nan() || !(-2_147_483_648.0..2_147_483_648.0).contains(&v) {
        i32::MIN
    } else {
        v as i32
    }
}

/// The value of largest magnitude, keeping its sign; the first one wins a tie, and a
/// block of zeros gives +0. (ggml's Q4_0/Q5_0 scan.)
#[inline]
fn signed_absmax(x: &[f32]) -> f32 {
    let mut amax = 0.0f32;
    let mut max = 0.0f32;
    for &v in x {
        if amax < v.abs() {
            amax = v.abs();
            max = v;
        }
    }
    max
}

/// The largest |x| with ggml's `MAX(a, b)` macro semantics (`a > b ? a : b`), which
/// differ from `f32::max` once a NaN is involved.
#[inline]
fn absmax(x: &[f32]) -> f32 {
    x.iter()
        .fold(0.0f32, |m, v| if m > v.abs() { m } else { v.abs() })
}

/// The minimum and maximum as ggml's `_1` quantizers compute them (NaNs are skipped).
#[inline]
fn min_max(x: &[f32]) -> (f32, f32) {
    let mut min = f32::MAX;
    let mut max = -f32::MAX;
    for &v in x {
        if v < min {
            min = v;
        }
        if v > max {
            max = v;
        }
    }
    (min, max)
}

/// `1/d`, or 0 when `d` is zero (a block of zeros). A NaN `d` counts as non-zero, as
/// in C's `d ? 1/d : 0`.
#[inline]
fn inverse_or_zero(d: f32) -> f32 {
    if d != 0.0 {
        1.0 / d
    } else {
        0.0
    }
}

#[cfg(test)]
mod tests;

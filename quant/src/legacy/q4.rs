//! Q4_0 (symmetric, 4.5 bits per weight) and Q4_1 (scale + offset, 5 bits per weight).

use super::{c_cast_to_int, inverse_or_zero, min_max, signed_absmax, QK};
use crate::float::f16_accessors;
use bytemuck::{Pod, Zeroable};

/// One Q4_0 block: 32 elements `x[i] = d * (q[i] - 8)`, with `q[i]` in 0..=15.
///
/// Layout (18 bytes): `d` (f16, little-endian), then 16 bytes of nibbles: byte `j` holds
/// element `j` in its low nibble and element `j + 16` in its high nibble.
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Pod, Zeroable)]
#[allow(non_camel_case_types)]
pub struct BlockQ4_0 {
    /// Scale, f16 bits.
    pub d: [u8; 2],
    /// Packed 4-bit quants (low nibbles: elements 0..16, high nibbles: 16..32).
    pub qs: [u8; QK / 2],
}
const _: () = assert!(std::mem::size_of::<BlockQ4_0>() == 18);
f16_accessors!(BlockQ4_0 { d, set_d: "scale `d`"; });

/// One Q4_1 block: 32 elements `x[i] = d * q[i] + m`, with `q[i]` in 0..=15.
///
/// Layout (20 bytes): `d` (f16), `m` (f16, the block minimum), then the 16 bytes of
/// nibbles laid out as in [`BlockQ4_0`].
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Pod, Zeroable)]
#[allow(non_camel_case_types)]
pub struct BlockQ4_1 {
    /// Scale, f16 bits.
    pub d: [u8; 2],
    /// Offset (the block's minimum), f16 bits.
    pub m: [u8; 2],
    /// Packed 4-bit quants (low nibbles: elements 0..16, high nibbles: 16..32).
    pub qs: [u8; QK / 2],
}
const _: () = assert!(std::mem::size_of::<BlockQ4_1>() == 20);
f16_accessors!(BlockQ4_1 { d, set_d: "scale `d`"; m, set_m: "offset `m`"; });

/// Decodes Q4_0 blocks (18 bytes per 32 elements).
pub fn dequantize_q4_0(src: &[u8], dst: &mut [f32]) {
    debug_assert_eq!(src.len() / 18 * QK, dst.len());
    for (raw, y) in src.chunks_exact(18).zip(dst.chunks_exact_mut(QK)) {
        let b: &BlockQ4_0 = bytemuck::from_bytes(raw);
        let d = b.d();
        for (j, &q) in b.qs.iter().enumerate() {
            y[j] = (i32::from(q & 0x0f) - 8) as f32 * d;
            y[j + QK / 2] = (i32::from(q >> 4) - 8) as f32 * d;
        }
    }
}

/// Quantizes to Q4_0 as ggml's `quantize_row_q4_0_ref`: `d = max / -8` where `max` is
/// the element of largest magnitude (sign kept), so that element maps to quant 0 and the
/// range is used asymmetrically; `q = min(15, trunc(x/d + 8.5))`.
pub fn quantize_q4_0(src: &[f32], dst: &mut [u8]) {
    debug_assert_eq!(src.len() / QK * 18, dst.len());
    for (x, raw) in src.chunks_exact(QK).zip(dst.chunks_exact_mut(18)) {
        let b: &mut BlockQ4_0 = bytemuck::from_bytes_mut(raw);
        let d = signed_absmax(x) / -8.0;
        let id = inverse_or_zero(d);
        b.set_d(d);
        // ggml: MIN(15, (int8_t)v) on the low byte of the truncated value.
        let quant = |v: f32| (c_cast_to_int(v * id + 8.5) as i8).min(15) as u8;
        for j in 0..QK / 2 {
            b.qs[j] = quant(x[j]) | (quant(x[j + QK / 2]) << 4);
        }
    }
}

/// Decodes Q4_1 blocks (20 bytes per 32 elements).
pub fn dequantize_q4_1(src: &[u8], dst: &mut [f32]) {
    debug_assert_eq!(src.len() / 20 * QK, dst.len());
    for (raw, y) in src.chunks_exact(20).zip(dst.chunks_exact_mut(QK)) {
        let b: &BlockQ4_1 = bytemuck::from_bytes(raw);
        let (d, m) = (b.d(), b.m());
        for (j, &q) in b.qs.iter().enumerate() {
            y[j] = f32::from(q & 0x0f) * d + m;
            y[j + QK / 2] = f32::from(q >> 4) * d + m;
        }
    }
}

/// Quantizes to Q4_1 as ggml's `quantize_row_q4_1_ref`: `d = (max - min) / 15`,
/// `m = min`, `q = min(15, trunc((x - min)/d + 0.5))`.
pub fn quantize_q4_1(src: &[f32], dst: &mut [u8]) {
    debug_assert_eq!(src.len() / QK * 20, dst.len());
    for (x, raw) in src.chunks_exact(QK).zip(dst.chunks_exact_mut(20)) {
        let b: &mut BlockQ4_1 = bytemuck::from_bytes_mut(raw);
        let (min, max) = min_max(x);
        let d = (max - min) / 15.0;
        let id = inverse_or_zero(d);
        b.set_d(d);
        b.set_m(min);
        let quant = |v: f32| (c_cast_to_int((v - min) * id + 0.5) as i8).min(15) as u8;
        for j in 0..QK / 2 {
            b.qs[j] = quant(x[j]) | (quant(x[j + QK / 2]) << 4);
        }
    }
}

//! Q5_0 (symmetric, 5.5 bits per weight) and Q5_1 (scale + offset, 6 bits per weight).
//!
//! The fifth bit of every element lives in a separate 32-bit little-endian word `qh`:
//! bit `i` of `qh` is bit 4 of element `i`.

use super::{c_cast_to_int, inverse_or_zero, min_max, signed_absmax, QK};
use crate::float::f16_accessors;
use bytemuck::{Pod, Zeroable};

/// One Q5_0 block: 32 elements `x[i] = d * (q[i] - 16)`, with `q[i]` in 0..=31.
///
/// Layout (22 bytes): `d` (f16), `qh` (u32 little-endian, bit `i` = bit 4 of element
/// `i`), then 16 bytes holding the low 4 bits: byte `j` has element `j` in its low nibble
/// and element `j + 16` in its high nibble.
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Pod, Zeroable)]
#[allow(non_camel_case_types)]
pub struct BlockQ5_0 {
    /// Scale, f16 bits.
    pub d: [u8; 2],
    /// Fifth bits of the 32 elements, u32 little-endian.
    pub qh: [u8; 4],
    /// Low 4 bits (low nibbles: elements 0..16, high nibbles: 16..32).
    pub qs: [u8; QK / 2],
}
const _: () = assert!(std::mem::size_of::<BlockQ5_0>() == 22);
f16_accessors!(BlockQ5_0 { d, set_d: "scale `d`"; });

/// One Q5_1 block: 32 elements `x[i] = d * q[i] + m`, with `q[i]` in 0..=31.
///
/// Layout (24 bytes): `d` (f16), `m` (f16), `qh` (u32 little-endian), then 16 bytes of
/// low nibbles, as in [`BlockQ5_0`].
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Pod, Zeroable)]
#[allow(non_camel_case_types)]
pub struct BlockQ5_1 {
    /// Scale, f16 bits.
    pub d: [u8; 2],
    /// Offset (the block's minimum), f16 bits.
    pub m: [u8; 2],
    /// Fifth bits of the 32 elements, u32 little-endian.
    pub qh: [u8; 4],
    /// Low 4 bits (low nibbles: elements 0..16, high nibbles: 16..32).
    pub qs: [u8; QK / 2],
}
const _: () = assert!(std::mem::size_of::<BlockQ5_1>() == 24);
f16_accessors!(BlockQ5_1 { d, set_d: "scale `d`"; m, set_m: "offset `m`"; });

/// The 5-bit quants of a block from its low nibbles and `qh` word, in element order.
#[inline]
fn unpack5(qs: &[u8; QK / 2], qh: [u8; 4]) -> [u8; QK] {
    let qh = u32::from_le_bytes(qh);
    let mut q = [0u8; QK];
    for (j, &byte) in qs.iter().enumerate() {
        let hi0 = ((qh >> j) & 1) as u8;
        let hi1 = ((qh >> (j + QK / 2)) & 1) as u8;
        q[j] = (byte & 0x0f) | (hi0 << 4);
        q[j + QK / 2] = (byte >> 4) | (hi1 << 4);
    }
    q
}

/// Packs 32 quants (only their low 5 bits count) into nibbles and the `qh` word.
#[inline]
fn pack5(q: &[u8; QK], qs: &mut [u8; QK / 2], qh: &mut [u8; 4]) {
    let mut h = 0u32;
    for (i, &v) in q.iter().enumerate() {
        h |= u32::from((v >> 4) & 1) << i;
    }
    for j in 0..QK / 2 {
        qs[j] = (q[j] & 0x0f) | ((q[j + QK / 2] & 0x0f) << 4);
    }
    *qh = h.to_le_bytes();
}

/// Decodes Q5_0 blocks (22 bytes per 32 elements).
pub fn dequantize_q5_0(src: &[u8], dst: &mut [f32]) {
    debug_assert_eq!(src.len() / 22 * QK, dst.len());
    for (raw, y) in src.chunks_exact(22).zip(dst.chunks_exact_mut(QK)) {
        let b: &BlockQ5_0 = bytemuck::from_bytes(raw);
        let d = b.d();
        for (y, &q) in y.iter_mut().zip(&unpack5(&b.qs, b.qh)) {
            *y = (i32::from(q) - 16) as f32 * d;
        }
    }
}

/// Quantizes to Q5_0 as ggml's `quantize_row_q5_0_ref`: `d = max / -16` where `max` is
/// the element of largest magnitude (sign kept); `q = min(31, trunc(x/d + 16.5))`.
pub fn quantize_q5_0(src: &[f32], dst: &mut [u8]) {
    debug_assert_eq!(src.len() / QK * 22, dst.len());
    for (x, raw) in src.chunks_exact(QK).zip(dst.chunks_exact_mut(22)) {
        let b: &mut BlockQ5_0 = bytemuck::from_bytes_mut(raw);
        let d = signed_absmax(x) / -16.0;
        let id = inverse_or_zero(d);
        b.set_d(d);
        let mut q = [0u8; QK];
        for (q, &v) in q.iter_mut().zip(x) {
            *q = (c_cast_to_int(v * id + 16.5) as i8).min(31) as u8;
        }
        pack5(&q, &mut b.qs, &mut b.qh);
    }
}

/// Decodes Q5_1 blocks (24 bytes per 32 elements).
pub fn dequantize_q5_1(src: &[u8], dst: &mut [f32]) {
    debug_assert_eq!(src.len() / 24 * QK, dst.len());
    for (raw, y) in src.chunks_exact(24).zip(dst.chunks_exact_mut(QK)) {
        let b: &BlockQ5_1 = bytemuck::from_bytes(raw);
        let (d, m) = (b.d(), b.m());
        for (y, &q) in y.iter_mut().zip(&unpack5(&b.qs, b.qh)) {
            *y = f32::from(q) * d + m;
        }
    }
}

/// Quantizes to Q5_1 as ggml's `quantize_row_q5_1_ref`: `d = (max - min) / 31`,
/// `m = min`, `q = trunc((x - min)/d + 0.5)` (no clamp: it cannot exceed 31 for finite
/// input).
pub fn quantize_q5_1(src: &[f32], dst: &mut [u8]) {
    debug_assert_eq!(src.len() / QK * 24, dst.len());
    for (x, raw) in src.chunks_exact(QK).zip(dst.chunks_exact_mut(24)) {
        let b: &mut BlockQ5_1 = bytemuck::from_bytes_mut(raw);
        let (min, max) = min_max(x);
        let d = (max - min) / 31.0;
        let id = inverse_or_zero(d);
        b.set_d(d);
        b.set_m(min);
        let mut q = [0u8; QK];
        for (q, &v) in q.iter_mut().zip(x) {
            *q = c_cast_to_int((v - min) * id + 0.5) as u8;
        }
        pack5(&q, &mut b.qs, &mut b.qh);
    }
}

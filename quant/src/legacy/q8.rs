//! Q8_0 (8.5 bits per weight) and Q8_1 (Q8_0 plus a precomputed block sum, used by
//! ggml as the activation format for dot products with the `_1` weight formats).

use super::{absmax, c_cast_to_int, inverse_or_zero, QK};
use crate::float::f16_accessors;
use bytemuck::{Pod, Zeroable};

/// One Q8_0 block: 32 elements `x[i] = d * q[i]`, with `q[i]` in -127..=127 when made by
/// the quantizer (any i8 decodes).
///
/// Layout (34 bytes): `d` (f16), then the 32 signed quants in element order.
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Pod, Zeroable)]
#[allow(non_camel_case_types)]
pub struct BlockQ8_0 {
    /// Scale, f16 bits.
    pub d: [u8; 2],
    /// Signed quants, element order.
    pub qs: [i8; QK],
}
const _: () = assert!(std::mem::size_of::<BlockQ8_0>() == 34);
f16_accessors!(BlockQ8_0 { d, set_d: "scale `d`"; });

/// One Q8_1 block: as [`BlockQ8_0`], plus `s = d * sum(q)` so that dot products with
/// Q4_1/Q5_1 can apply the other side's offset without re-summing.
///
/// Layout (36 bytes): `d` (f16), `s` (f16), then the 32 signed quants in element order.
/// `s` is redundant: decoding ignores it.
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Pod, Zeroable)]
#[allow(non_camel_case_types)]
pub struct BlockQ8_1 {
    /// Scale, f16 bits.
    pub d: [u8; 2],
    /// `d * sum(qs)`, f16 bits.
    pub s: [u8; 2],
    /// Signed quants, element order.
    pub qs: [i8; QK],
}
const _: () = assert!(std::mem::size_of::<BlockQ8_1>() == 36);
f16_accessors!(BlockQ8_1 { d, set_d: "scale `d`"; s, set_s: "block sum `s = d * sum(q)`"; });

/// Rounds `v * id` half away from zero (C's `roundf`) and narrows it as C does.
#[inline]
fn quant8(v: f32, id: f32) -> i8 {
    c_cast_to_int((v * id).round()) as i8
}

/// Decodes Q8_0 blocks (34 bytes per 32 elements).
pub fn dequantize_q8_0(src: &[u8], dst: &mut [f32]) {
    debug_assert_eq!(src.len() / 34 * QK, dst.len());
    for (raw, y) in src.chunks_exact(34).zip(dst.chunks_exact_mut(QK)) {
        let b: &BlockQ8_0 = bytemuck::from_bytes(raw);
        let d = b.d();
        for (y, &q) in y.iter_mut().zip(&b.qs) {
            *y = f32::from(q) * d;
        }
    }
}

/// Quantizes to Q8_0 as ggml's `quantize_row_q8_0_ref`: `d = max|x| / 127`,
/// `q = round(x/d)` (half away from zero).
pub fn quantize_q8_0(src: &[f32], dst: &mut [u8]) {
    debug_assert_eq!(src.len() / QK * 34, dst.len());
    for (x, raw) in src.chunks_exact(QK).zip(dst.chunks_exact_mut(34)) {
        let b: &mut BlockQ8_0 = bytemuck::from_bytes_mut(raw);
        let d = absmax(x) / 127.0;
        let id = inverse_or_zero(d);
        b.set_d(d);
        for (q, &v) in b.qs.iter_mut().zip(x) {
            *q = quant8(v, id);
        }
    }
}

/// Decodes Q8_1 blocks (36 bytes per 32 elements): `d * q`, ignoring `s`. (ggml has no
/// Q8_1 decoder; this is the one its layout implies.)
pub fn dequantize_q8_1(src: &[u8], dst: &mut [f32]) {
    debug_assert_eq!(src.len() / 36 * QK, dst.len());
    for (raw, y) in src.chunks_exact(36).zip(dst.chunks_exact_mut(QK)) {
        let b: &BlockQ8_1 = bytemuck::from_bytes(raw);
        let d = b.d();
        for (y, &q) in y.iter_mut().zip(&b.qs) {
            *y = f32::from(q) * d;
        }
    }
}

/// Quantizes to Q8_1 as ggml's `quantize_row_q8_1_ref`: the quants of Q8_0, and
/// `s = f16(f32(sum(q)) * d)` with the unrounded f32 `d`.
pub fn quantize_q8_1(src: &[f32], dst: &mut [u8]) {
    debug_assert_eq!(src.len() / QK * 36, dst.len());
    for (x, raw) in src.chunks_exact(QK).zip(dst.chunks_exact_mut(36)) {
        let b: &mut BlockQ8_1 = bytemuck::from_bytes_mut(raw);
        let d = absmax(x) / 127.0;
        let id = inverse_or_zero(d);
        b.set_d(d);
        let mut sum = 0i32;
        for (q, &v) in b.qs.iter_mut().zip(x) {
            *q = quant8(v, id);
            sum += i32::from(*q);
        }
        b.set_s(sum as f32 * d);
    }
}

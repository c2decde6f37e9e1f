//! IQ4_NL and IQ4_XS: 4-bit quants that index a fixed non-linear table of 16 levels
//! (denser near zero, matching the bell shape of weight distributions) instead of a
//! uniform grid.
//!
//! IQ4_NL has 32-element blocks with an f16 scale (4.5 bits per weight). IQ4_XS groups
//! eight such blocks into a 256-element super-block with one f16 scale and a 6-bit
//! signed sub-scale per 32 elements (4.25 bits per weight).
//!
//! The quantizer is ggml's `quantize_row_iq4_nl_impl` as `llama-quantize` runs it
//! without an importance matrix: per 32 elements, weights `x²`, a least-squares scale,
//! and a search over 15 trial scales. (ggml's `quantize_row_iq4_nl_ref`, which ggml uses
//! only to convert activations, skips the search and so gives different IQ4_NL bytes.)
//!
//! All functions take whole blocks: `src` and `dst` hold the same number of blocks, as
//! [`crate::quantize`] and [`crate::dequantize`] check; a trailing partial block is
//! ignored, never read out of bounds.

use crate::float::f16_accessors;
use bytemuck::{Pod, Zeroable};

/// The 16 levels a 4-bit IQ4 quant selects (ggml's `kvalues_iq4nl`), ascending.
pub const KVALUES: [i8; 16] = [
    -127, -104, -83, -65, -49, -35, -22, -10, 1, 13, 25, 38, 53, 69, 89, 113,
];

/// Elements per IQ4_NL block and per IQ4_XS sub-block.
pub const QK4_NL: usize = 32;
/// Elements per IQ4_XS super-block.
pub const QK_K: usize = 256;

/// Number of trial scales on each side of the first guess (ggml's `ntry` as passed by
/// `quantize_iq4_nl` / `quantize_iq4_xs`).
const NTRY: i32 = 7;
/// Blocks whose largest |x| is below this are stored as zeros (ggml's `GROUP_MAX_EPS`).
const GROUP_MAX_EPS: f32 = 1e-15;

/// One IQ4_NL block: 32 elements `x[i] = d * KVALUES[q[i]]`.
///
/// Layout (18 bytes): `d` (f16), then 16 bytes of 4-bit indices: byte `j` holds element
/// `j` in its low nibble and element `j + 16` in its high nibble.
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Pod, Zeroable)]
#[allow(non_camel_case_types)]
pub struct BlockIQ4_NL {
    /// Scale, f16 bits.
    pub d: [u8; 2],
    /// Packed indices into [`KVALUES`] (low nibbles: elements 0..16, high: 16..32).
    pub qs: [u8; QK4_NL / 2],
}
const _: () = assert!(std::mem::size_of::<BlockIQ4_NL>() == 18);
f16_accessors!(BlockIQ4_NL { d, set_d: "scale `d`"; });

/// One IQ4_XS super-block: 256 elements in 8 sub-blocks of 32;
/// `x[32*ib + i] = d * (ls[ib] - 32) * KVALUES[q[32*ib + i]]` with 6-bit `ls`.
///
/// Layout (136 bytes): `d` (f16); `scales_h` (u16 little-endian, bits `2*ib..2*ib+2` are
/// the top two bits of `ls[ib]`); `scales_l` (4 bytes, byte `ib/2` holds the low four
/// bits of `ls[ib]`, even `ib` in the low nibble); `qs` (128 bytes, 16 per sub-block,
/// nibbles laid out within each sub-block as in [`BlockIQ4_NL`]).
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Pod, Zeroable)]
#[allow(non_camel_case_types)]
pub struct BlockIQ4_XS {
    /// Super-block scale, f16 bits.
    pub d: [u8; 2],
    /// High two bits of each sub-block scale, u16 little-endian.
    pub scales_h: [u8; 2],
    /// Low four bits of each sub-block scale, two per byte.
    pub scales_l: [u8; QK_K / 64],
    /// Packed indices into [`KVALUES`], 16 bytes per sub-block.
    pub qs: [u8; QK_K / 2],
}
const _: () = assert!(std::mem::size_of::<BlockIQ4_XS>() == 136);
f16_accessors!(BlockIQ4_XS { d, set_d: "super-block scale `d`"; });

impl BlockIQ4_XS {
    /// The signed scale of sub-block `ib` (0..8), in -32..=31.
    #[inline]
    pub fn sub_scale(&self, ib: usize) -> i32 {
        let lo = (self.scales_l[ib / 2] >> (4 * (ib % 2))) & 0x0f;
        let hi = (u16::from_le_bytes(self.scales_h) >> (2 * ib)) & 3;
        (i32::from(lo) | (i32::from(hi) << 4)) - 32
    }
}

/// Decodes one 32-element group of nibbles with scale `d`.
#[inline]
fn decode32(qs: &[u8], d: f32, y: &mut [f32]) {
    for (j, &q) in qs.iter().enumerate() {
        y[j] = d * f32::from(KVALUES[usize::from(q & 0x0f)]);
        y[j + 16] = d * f32::from(KVALUES[usize::from(q >> 4)]);
    }
}

/// Decodes IQ4_NL blocks (18 bytes per 32 elements).
pub fn dequantize_iq4_nl(src: &[u8], dst: &mut [f32]) {
    debug_assert_eq!(src.len() / 18 * QK4_NL, dst.len());
    for (raw, y) in src.chunks_exact(18).zip(dst.chunks_exact_mut(QK4_NL)) {
        let b: &BlockIQ4_NL = bytemuck::from_bytes(raw);
        decode32(&b.qs, b.d(), y);
    }
}

/// Decodes IQ4_XS super-blocks (136 bytes per 256 elements).
pub fn dequantize_iq4_xs(src: &[u8], dst: &mut [f32]) {
    debug_assert_eq!(src.len() / 136 * QK_K, dst.len());
    for (raw, y) in src.chunks_exact(136).zip(dst.chunks_exact_mut(QK_K)) {
        let b: &BlockIQ4_XS = bytemuck::from_bytes(raw);
        let d = b.d();
        for (ib, (qs, y)) in
            b.qs.chunks_exact(16)
                .zip(y.chunks_exact_mut(32))
                .enumerate()
        {
            decode32(qs, d * b.sub_scale(ib) as f32, y);
        }
    }
}

/// Quantizes to IQ4_NL as llama.cpp's `quantize_iq4_nl` without an importance matrix
/// (what `llama-quantize` writes).
pub fn quantize_iq4_nl(src: &[f32], dst: &mut [u8]) {
    debug_assert_eq!(src.len() / QK4_NL * 18, dst.len());
    for (x, raw) in src.chunks_exact(QK4_NL).zip(dst.chunks_exact_mut(18)) {
        let b: &mut BlockIQ4_NL = bytemuck::from_bytes_mut(raw);
        let d = best_scale(x);
        b.set_d(d);
        let mut idx = [0u8; QK4_NL];
        indices(x, inverse_or_zero(d), &mut idx);
        pack32(&idx, &mut b.qs);
    }
}

/// Quantizes to IQ4_XS as llama.cpp's `quantize_iq4_xs` without an importance matrix
/// (what `llama-quantize` writes, and ggml's `quantize_row_iq4_xs_ref`).
pub fn quantize_iq4_xs(src: &[f32], dst: &mut [u8]) {
    debug_assert_eq!(src.len() / QK_K * 136, dst.len());
    for (x, raw) in src.chunks_exact(QK_K).zip(dst.chunks_exact_mut(136)) {
        let b: &mut BlockIQ4_XS = bytemuck::from_bytes_mut(raw);
        quantize_xs_block(x, b);
    }
}

/// One IQ4_XS super-block: a best scale per sub-block, then those scales quantized to
/// 6 bits against a common `d`, then the indices redone with the scale actually stored.
fn quantize_xs_block(x: &[f32], b: &mut BlockIQ4_XS) {
    let mut scales = [0f32; QK_K / QK4_NL];
    let mut amax_scale = 0f32;
    let mut max_scale = 0f32;
    for (s, xb) in scales.iter_mut().zip(x.chunks_exact(QK4_NL)) {
        *s = best_scale(xb);
        if s.abs() > amax_scale {
            amax_scale = s.abs();
            max_scale = *s;
        }
    }
    // The sub-block scale of largest magnitude becomes -32 (the end of the 6-bit range
    // with the most room), as the signed 4-bit formats do with their elements.
    let d = -max_scale / 32.0;
    b.set_d(d);
    let id = inverse_or_zero(d);
    let mut scales_h = 0u16;
    b.scales_l = [0; QK_K / 64];
    let groups = scales
        .iter()
        .zip(x.chunks_exact(QK4_NL))
        .zip(b.qs.chunks_exact_mut(16));
    for (ib, ((&s, xb), qs)) in groups.enumerate() {
        let l = nearest_int(id * s).clamp(-32, 31);
        // Indices are chosen for the f32 scale `d * l`, not for its f16-rounded value.
        let dl = d * l as f32;
        let mut idx = [0u8; QK4_NL];
        indices(xb, inverse_or_zero(dl), &mut idx);
        pack32(&idx, qs);
        let l = (l + 32) as u8;
        b.scales_l[ib / 2] |= (l & 0x0f) << (4 * (ib % 2));
        scales_h |= u16::from(l >> 4) << (2 * ib);
    }
    b.scales_h = scales_h.to_le_bytes();
}

/// The scale for one 32-element group that minimises `sum(x² (x - d*KVALUES[q])²)`
/// over the candidates ggml tries: a least-squares fit of the indices chosen for
/// `d = max / 127` (`max` the element of largest magnitude, sign kept), then the
/// least-squares fits for the indices chosen at `1/d = (k - 127) / max`, `k` in -7..=7.
/// Returns 0 for a group of (near) zeros.
fn best_scale(xb: &[f32]) -> f32 {
    let mut amax = 0f32;
    let mut max = 0f32;
    for &v in xb {
        if v.abs() > amax {
            amax = v.abs();
            max = v;
        }
    }
    if amax < GROUP_MAX_EPS {
        return 0.0;
    }
    let k0 = f32::from(KVALUES[0]);
    let (sumqx, sumq2) = fit(xb, 1.0 / (-max / k0));
    let mut d = if sumq2 > 0.0 { sumqx / sumq2 } else { 0.0 };
    let mut best = d * sumqx;
    for itry in -NTRY..=NTRY {
        let id = (itry + i32::from(KVALUES[0])) as f32 / max;
        let (sumqx, sumq2) = fit(xb, id);
        // Compares sumqx²/sumq2 (the error reduction) without dividing.
        if sumq2 > 0.0 && sumqx * sumqx > best * sumq2 {
            d = sumqx / sumq2;
            best = d * sumqx;
        }
    }
    d
}

/// For the indices nearest to `id * x`, the weighted sums `sum(w q x)` and `sum(w q²)`
/// with `w = x²`, accumulated in ggml's order so the result is bit-identical.
#[inline]
fn fit(xb: &[f32], id: f32) -> (f32, f32) {
    let mut sumqx = 0f32;
    let mut sumq2 = 0f32;
    for &x in xb {
        let q = f32::from(KVALUES[best_index(id * x)]);
        let w = x * x;
        sumqx += w * q * x;
        sumq2 += w * q * q;
    }
    (sumqx, sumq2)
}

/// The indices nearest to `id * x` for a group of 32.
#[inline]
fn indices(xb: &[f32], id: f32, idx: &mut [u8; QK4_NL]) {
    for (l, &x) in idx.iter_mut().zip(xb) {
        *l = best_index(id * x) as u8;
    }
}

/// Packs 32 indices: byte `j` = `idx[j] | idx[j + 16] << 4`.
#[inline]
fn pack32(idx: &[u8; QK4_NL], qs: &mut [u8]) {
    let (lo, hi) = idx.split_at(16);
    for ((q, &l), &h) in qs.iter_mut().zip(lo).zip(hi) {
        *q = l | (h << 4);
    }
}

/// Index of the [`KVALUES`] entry nearest to `x`, by bisection as ggml's
/// `best_index_int8` (a tie goes to the upper entry; NaN gives 15).
#[inline]
fn best_index(x: f32) -> usize {
    let val = |i: usize| f32::from(KVALUES[i]);
    if x <= val(0) {
        return 0;
    }
    if x >= val(15) {
        return 15;
    }
    let (mut lo, mut hi) = (0usize, 15usize);
    while hi - lo > 1 {
        let mid = (lo + hi) / 2;
        if x < val(mid) {
            hi = mid;
        } else {
            lo = mid;
        }
    }
    if x - val(hi - 1) < val(hi) - x {
        hi - 1
    } else {
        hi
    }
}

/// ggml's `nearest_int`: round to nearest, ties to even, by adding 1.5 * 2^23 so the
/// integer lands in the mantissa bits. Reproduced bit for bit (rather than calling
/// `round_ties_even`) so that even out-of-range inputs give the same integer as ggml.
#[inline]
fn nearest_int(v: f32) -> i32 {
    let bits = (v + 12_582_912.0).to_bits() as i32;
    (bits & 0x007f_ffff) - 0x0040_0000
}

/// `1/d`, or 0 when `d` is zero; NaN counts as non-zero, as in C's `d ? 1/d : 0`.
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

//! aarch64 SIMD kernels: [`neon`] (Advanced SIMD, on every aarch64 CPU) and
//! [`neon_dotprod`] (plus the Armv8.2 `sdot` instruction).
//!
//! The integer kernels of both tiers share one body per type ([`body`]), instantiated in
//! each tier's module with that tier's `dot` (16 i8 · 16 i8 accumulated into four i32
//! lanes): `vmull_s8` + `vpadalq_s16` in [`neon`], `sdot` in [`neon_dotprod`]. Both are
//! exact for every i8 pair, so only the tier's target features differ. The same goes
//! for each tier's `tile` module (batched products over [`crate::cpu::tile`] panels).
//! The Q8_K activation quantizer ([`neon::quantize_row_q8_k`]) serves both tiers.
//!
//! Each kernel is an `unsafe fn` with `#[target_feature]`: its caller must make sure the
//! CPU has those features, which [`crate::cpu::KernelTable`] does. Memory accesses are
//! bounds-safe by construction (whole blocks, loads of fixed-size arrays).

#[macro_use]
mod body;
pub(crate) mod neon;
pub(crate) mod neon_dotprod;

use core::arch::aarch64::*;

/// Loads 16 bytes.
#[inline]
#[target_feature(enable = "neon")]
pub(crate) fn load_u8<T: bytemuck::Pod>(b: &[T; 16]) -> uint8x16_t {
    const { assert!(size_of::<T>() == 1) };
    // SAFETY: `b` is 16 readable bytes (T is one byte); `vld1q_u8` has no alignment
    // requirement beyond a byte's.
    unsafe { vld1q_u8(b.as_ptr().cast()) }
}

/// Loads 16 bytes as signed.
#[inline]
#[target_feature(enable = "neon")]
pub(crate) fn load_i8<T: bytemuck::Pod>(b: &[T; 16]) -> int8x16_t {
    vreinterpretq_s8_u8(load_u8(b))
}

/// The two 16-byte halves of a 32-byte array.
#[inline]
pub(crate) fn halves<T: bytemuck::Pod>(b: &[T; 32]) -> (&[T; 16], &[T; 16]) {
    let (lo, hi) = b.split_at(16);
    (
        lo.try_into().unwrap_or_else(|_| unreachable!("16 of 32")),
        hi.try_into().unwrap_or_else(|_| unreachable!("16 of 32")),
    )
}

/// Sixteen bytes of a Q8_K activation block starting at `i` (a multiple of 16).
#[inline]
pub(crate) fn q8k16(qs: &[u8; 256], i: usize) -> &[u8; 16] {
    let s: &[[u8; 16]; 16] = bytemuck::cast_ref(qs);
    &s[i / 16]
}

/// A little-endian f16 widened to f32.
#[inline]
pub(crate) fn f16(bits: [u8; 2]) -> f32 {
    half::f16::from_le_bytes(bits).to_f32()
}

/// The fifth bits of a Q5_0 block as two 16-byte vectors (elements 0..16 and 16..32):
/// byte `i` is `0x10` if bit `i` of the little-endian `qh` word is set, else 0.
#[inline]
#[target_feature(enable = "neon")]
pub(crate) fn fifth_bits(qh: [u8; 4]) -> (uint8x16_t, uint8x16_t) {
    const BITS: [u8; 16] = [1, 2, 4, 8, 16, 32, 64, 128, 1, 2, 4, 8, 16, 32, 64, 128];
    let bits = load_u8(&BITS);
    let spread = |a: u8, b: u8| vcombine_u8(vdup_n_u8(a), vdup_n_u8(b));
    let sixteen = vdupq_n_u8(0x10);
    (
        vandq_u8(vtstq_u8(spread(qh[0], qh[1]), bits), sixteen),
        vandq_u8(vtstq_u8(spread(qh[2], qh[3]), bits), sixteen),
    )
}

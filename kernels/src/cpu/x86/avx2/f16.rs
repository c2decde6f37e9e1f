//! F16 · F16 (F16C conversions) and BF16 · BF16 with AVX2 + FMA.

use super::{f16_to_f32, hsum_ps};
use core::arch::x86_64::*;

/// Eight f16 widened to f32.
#[inline]
#[target_feature(enable = "avx2,f16c")]
fn load_f16x8(x: &[[u8; 2]; 8]) -> __m256 {
    // SAFETY: `x` is 16 readable bytes; `loadu` has no alignment requirement.
    _mm256_cvtph_ps(unsafe { _mm_loadu_si128(x.as_ptr().cast()) })
}

/// Eight bf16 widened to f32 (each is the top half of its f32).
#[inline]
#[target_feature(enable = "avx2")]
fn load_bf16x8(x: &[[u8; 2]; 8]) -> __m256 {
    // SAFETY: `x` is 16 readable bytes; `loadu` has no alignment requirement.
    let v = unsafe { _mm_loadu_si128(x.as_ptr().cast()) };
    _mm256_castsi256_ps(_mm256_slli_epi32::<16>(_mm256_cvtepu16_epi32(v)))
}

/// Dot product over the shorter length, 32 elements per step in four accumulators, with
/// `load` widening eight elements and `one` one element to f32.
#[inline]
#[target_feature(enable = "avx2,fma,f16c")]
fn dot(
    w: &[[u8; 2]],
    x: &[[u8; 2]],
    load: impl Fn(&[[u8; 2]; 8]) -> __m256,
    one: impl Fn([u8; 2]) -> f32,
) -> f32 {
    let n = w.len().min(x.len());
    let (w, x) = (&w[..n], &x[..n]);
    let mut acc = [_mm256_setzero_ps(); 4];
    let mut wc = w.chunks_exact(32);
    let mut xc = x.chunks_exact(32);
    for (cw, cx) in (&mut wc).zip(&mut xc) {
        let cw: &[[[u8; 2]; 8]] = bytemuck::cast_slice(cw);
        let cx: &[[[u8; 2]; 8]] = bytemuck::cast_slice(cx);
        for ((acc, a), b) in acc.iter_mut().zip(cw).zip(cx) {
            *acc = _mm256_fmadd_ps(load(a), load(b), *acc);
        }
    }
    let v = _mm256_add_ps(_mm256_add_ps(acc[0], acc[1]), _mm256_add_ps(acc[2], acc[3]));
    let tail = wc
        .remainder()
        .iter()
        .zip(xc.remainder())
        .fold(0.0f32, |s, (a, b)| one(*a).mul_add(one(*b), s));
    hsum_ps(v) + tail
}

/// AVX2 version of [`crate::cpu::scalar::vec_dot_f16`].
///
/// # Safety
/// The CPU must support AVX2, FMA and F16C.
#[target_feature(enable = "avx2,fma,f16c")]
pub unsafe fn vec_dot_f16(w: &[[u8; 2]], x: &[[u8; 2]]) -> f32 {
    dot(w, x, |v| load_f16x8(v), |b| f16_to_f32(b))
}

/// AVX2 version of [`crate::cpu::scalar::vec_dot_bf16`].
///
/// # Safety
/// The CPU must support AVX2 and FMA.
#[target_feature(enable = "avx2,fma,f16c")]
pub unsafe fn vec_dot_bf16(w: &[[u8; 2]], x: &[[u8; 2]]) -> f32 {
    dot(
        w,
        x,
        |v| load_bf16x8(v),
        |b| f32::from_bits(u32::from(u16::from_le_bytes(b)) << 16),
    )
}

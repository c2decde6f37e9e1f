//! Single-query attention over an f16 KV cache with AVX2 + FMA + F16C: the loop of
//! [`crate::ops::attend`] with its key dot product and value accumulation eight lanes wide.

use crate::ops::attention::online_attend;
use core::arch::x86_64::*;
use half::f16;

/// Eight f16 widened to f32.
#[inline]
#[target_feature(enable = "avx2,f16c")]
pub(crate) fn load_f16x8(x: &[f16]) -> __m256 {
    assert!(x.len() >= 8);
    // SAFETY: `x` holds at least 8 f16 (16 readable bytes); `loadu` has no alignment
    // requirement.
    _mm256_cvtph_ps(unsafe { _mm_loadu_si128(x.as_ptr().cast()) })
}

/// Eight f32 rounded to nearest f16 and stored into `x`.
#[inline]
#[target_feature(enable = "avx2,f16c")]
pub(crate) fn store_f16x8(x: &mut [f16], v: __m256) {
    assert!(x.len() >= 8);
    let h = _mm256_cvtps_ph::<_MM_FROUND_TO_NEAREST_INT>(v);
    // SAFETY: `x` holds at least 8 f16 (16 writable bytes); `storeu` has no alignment
    // requirement.
    unsafe { _mm_storeu_si128(x.as_mut_ptr().cast(), h) }
}

/// Eight f32 from `x`.
#[inline]
#[target_feature(enable = "avx2")]
pub(crate) fn load_f32x8(x: &[f32]) -> __m256 {
    assert!(x.len() >= 8);
    // SAFETY: `x` holds at least 8 f32; `loadu` has no alignment requirement.
    unsafe { _mm256_loadu_ps(x.as_ptr()) }
}

/// `Σ q[i]·k[i]` over the shorter length, 16 elements per step in two accumulators.
#[inline]
#[target_feature(enable = "avx2,fma,f16c")]
pub(crate) fn dot_f32_f16(q: &[f32], k: &[f16]) -> f32 {
    let n = q.len().min(k.len());
    let (q, k) = (&q[..n], &k[..n]);
    let (mut a0, mut a1) = (_mm256_setzero_ps(), _mm256_setzero_ps());
    let mut qc = q.chunks_exact(16);
    let mut kc = k.chunks_exact(16);
    for (q, k) in (&mut qc).zip(&mut kc) {
        a0 = _mm256_fmadd_ps(load_f32x8(q), load_f16x8(k), a0);
        a1 = _mm256_fmadd_ps(load_f32x8(&q[8..]), load_f16x8(&k[8..]), a1);
    }
    let (q, k) = (qc.remainder(), kc.remainder());
    let mut qc = q.chunks_exact(8);
    let mut kc = k.chunks_exact(8);
    for (q, k) in (&mut qc).zip(&mut kc) {
        a0 = _mm256_fmadd_ps(load_f32x8(q), load_f16x8(k), a0);
    }
    let tail = qc
        .remainder()
        .iter()
        .zip(kc.remainder())
        .fold(0.0f32, |s, (q, k)| k.to_f32().mul_add(*q, s));
    super::hsum_ps(_mm256_add_ps(a0, a1)) + tail
}

/// `acc[i] = f16(acc[i]·s)`, rounding to nearest as [`f16::from_f32`] does.
#[inline]
#[target_feature(enable = "avx2,f16c")]
pub(crate) fn scale_f16(acc: &mut [f16], s: f32) {
    let sv = _mm256_set1_ps(s);
    let mut ac = acc.chunks_exact_mut(8);
    for a in &mut ac {
        store_f16x8(a, _mm256_mul_ps(load_f16x8(a), sv));
    }
    for a in ac.into_remainder() {
        *a = f16::from_f32(a.to_f32() * s);
    }
}

/// `acc[i] = f16(acc[i] + v[i]·w)` with a separate f32 multiply and add (no FMA), so the
/// result is bit-identical to the scalar one.
#[inline]
#[target_feature(enable = "avx2,f16c")]
pub(crate) fn mad_f16(acc: &mut [f16], v: &[f16], w: f32) {
    let wv = _mm256_set1_ps(w);
    let mut ac = acc.chunks_exact_mut(8);
    let mut vc = v.chunks_exact(8);
    for (a, v) in (&mut ac).zip(&mut vc) {
        let prod = _mm256_mul_ps(load_f16x8(v), wv);
        store_f16x8(a, _mm256_add_ps(load_f16x8(a), prod));
    }
    for (a, v) in ac.into_remainder().iter_mut().zip(vc.remainder()) {
        *a = f16::from_f32(a.to_f32() + v.to_f32() * w);
    }
}

/// AVX2 version of [`crate::ops::attend`] (lengths already checked).
///
/// # Safety
/// The CPU must support AVX2, FMA and F16C.
#[target_feature(enable = "avx2,fma,f16c")]
pub unsafe fn attend(
    q: &[f32],
    keys: &[f16],
    values: &[f16],
    scale: f32,
    acc: &mut [f16],
    out: &mut [f32],
) {
    online_attend(
        q,
        keys,
        values,
        scale,
        acc,
        out,
        |q, k| dot_f32_f16(q, k),
        |acc, s| scale_f16(acc, s),
        |acc, v, w| mad_f16(acc, v, w),
    );
}

//! Single-query attention over an f16 KV cache with AVX-512F: the loop of
//! [`crate::ops::attend`] sixteen lanes wide, with the AVX2 kernels for what is left.

use crate::cpu::x86::avx2::attention as avx2;
use crate::ops::attention::online_attend;
use core::arch::x86_64::*;
use half::f16;

/// Sixteen f16 widened to f32.
#[inline]
#[target_feature(enable = "avx512f")]
fn load_f16x16(x: &[f16]) -> __m512 {
    assert!(x.len() >= 16);
    // SAFETY: `x` holds at least 16 f16 (32 readable bytes); `loadu` has no alignment
    // requirement.
    _mm512_cvtph_ps(unsafe { _mm256_loadu_si256(x.as_ptr().cast()) })
}

/// Sixteen f32 rounded to nearest f16 and stored into `x`.
#[inline]
#[target_feature(enable = "avx512f")]
fn store_f16x16(x: &mut [f16], v: __m512) {
    assert!(x.len() >= 16);
    let h = _mm512_cvtps_ph::<{ _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC }>(v);
    // SAFETY: `x` holds at least 16 f16 (32 writable bytes); `storeu` has no alignment
    // requirement.
    unsafe { _mm256_storeu_si256(x.as_mut_ptr().cast(), h) }
}

/// Sixteen f32 from `x`.
#[inline]
#[target_feature(enable = "avx512f")]
fn load_f32x16(x: &[f32]) -> __m512 {
    assert!(x.len() >= 16);
    // SAFETY: `x` holds at least 16 f32; `loadu` has no alignment requirement.
    unsafe { _mm512_loadu_ps(x.as_ptr()) }
}

/// `Σ q[i]·k[i]` over the shorter length, 32 elements per step in two accumulators.
#[inline]
#[target_feature(enable = "avx512f,avx2,fma,f16c")]
pub(crate) fn dot_f32_f16(q: &[f32], k: &[f16]) -> f32 {
    let n = q.len().min(k.len());
    let (q, k) = (&q[..n], &k[..n]);
    let (mut a0, mut a1) = (_mm512_setzero_ps(), _mm512_setzero_ps());
    let mut qc = q.chunks_exact(32);
    let mut kc = k.chunks_exact(32);
    for (q, k) in (&mut qc).zip(&mut kc) {
        a0 = _mm512_fmadd_ps(load_f32x16(q), load_f16x16(k), a0);
        a1 = _mm512_fmadd_ps(load_f32x16(&q[16..]), load_f16x16(&k[16..]), a1);
    }
    let (q, k) = (qc.remainder(), kc.remainder());
    let mut qc = q.chunks_exact(16);
    let mut kc = k.chunks_exact(16);
    for (q, k) in (&mut qc).zip(&mut kc) {
        a0 = _mm512_fmadd_ps(load_f32x16(q), load_f16x16(k), a0);
    }
    _mm512_reduce_add_ps(_mm512_add_ps(a0, a1)) + avx2::dot_f32_f16(qc.remainder(), kc.remainder())
}

/// `acc[i] = f16(acc[i]·s)`, rounding to nearest as [`f16::from_f32`] does.
#[inline]
#[target_feature(enable = "avx512f,avx2,f16c")]
pub(crate) fn scale_f16(acc: &mut [f16], s: f32) {
    let sv = _mm512_set1_ps(s);
    let mut ac = acc.chunks_exact_mut(16);
    for a in &mut ac {
        store_f16x16(a, _mm512_mul_ps(load_f16x16(a), sv));
    }
    avx2::scale_f16(ac.into_remainder(), s);
}

/// `acc[i] = f16(acc[i] + v[i]·w)` with a separate f32 multiply and add (no FMA), so the
/// result is bit-identical to the scalar one.
#[inline]
#[target_feature(enable = "avx512f,avx2,f16c")]
pub(crate) fn mad_f16(acc: &mut [f16], v: &[f16], w: f32) {
    let wv = _mm512_set1_ps(w);
    let mut ac = acc.chunks_exact_mut(16);
    let mut vc = v.chunks_exact(16);
    for (a, v) in (&mut ac).zip(&mut vc) {
        let prod = _mm512_mul_ps(load_f16x16(v), wv);
        store_f16x16(a, _mm512_add_ps(load_f16x16(a), prod));
    }
    avx2::mad_f16(ac.into_remainder(), vc.remainder(), w);
}

/// AVX-512 version of [`crate::ops::attend`] (lengths already checked).
///
/// # Safety
/// The CPU must support AVX-512F, AVX2, FMA and F16C.
#[target_feature(enable = "avx512f,avx2,fma,f16c")]
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

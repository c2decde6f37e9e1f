//! f32 · f32 with AVX2 + FMA.

use super::hsum_ps;
use core::arch::x86_64::*;

/// AVX2 version of [`crate::cpu::scalar::vec_dot_f32`] (over the shorter length).
///
/// # Safety
/// The CPU must support AVX2 and FMA.
#[target_feature(enable = "avx2,fma")]
pub unsafe fn vec_dot_f32(w: &[f32], x: &[f32]) -> f32 {
    let n = w.len().min(x.len());
    let (w, x) = (&w[..n], &x[..n]);
    let mut acc = [_mm256_setzero_ps(); 4];
    let mut wc = w.chunks_exact(32);
    let mut xc = x.chunks_exact(32);
    for (cw, cx) in (&mut wc).zip(&mut xc) {
        for (k, acc) in acc.iter_mut().enumerate() {
            // SAFETY: both chunks hold 32 f32; lanes 8k..8k+8 are in bounds.
            let (vw, vx) = unsafe {
                (
                    _mm256_loadu_ps(cw.as_ptr().add(8 * k)),
                    _mm256_loadu_ps(cx.as_ptr().add(8 * k)),
                )
            };
            *acc = _mm256_fmadd_ps(vw, vx, *acc);
        }
    }
    let v = _mm256_add_ps(_mm256_add_ps(acc[0], acc[1]), _mm256_add_ps(acc[2], acc[3]));
    let tail = wc
        .remainder()
        .iter()
        .zip(xc.remainder())
        .fold(0.0f32, |s, (a, b)| a.mul_add(*b, s));
    hsum_ps(v) + tail
}

//! f32 · f32 with AVX-512.

use core::arch::x86_64::*;

/// AVX-512 version of [`crate::cpu::scalar::vec_dot_f32`] (over the shorter length):
/// four 16-lane FMA accumulators over 64 elements per step, the remainder in one masked
/// 16-lane step at a time.
///
/// # Safety
/// The CPU must support AVX-512 F.
#[target_feature(enable = "avx512f")]
pub unsafe fn vec_dot_f32(w: &[f32], x: &[f32]) -> f32 {
    let n = w.len().min(x.len());
    let (w, x) = (&w[..n], &x[..n]);
    let mut acc = [_mm512_setzero_ps(); 4];
    let mut wc = w.chunks_exact(64);
    let mut xc = x.chunks_exact(64);
    for (cw, cx) in (&mut wc).zip(&mut xc) {
        for (k, acc) in acc.iter_mut().enumerate() {
            // SAFETY: both chunks hold 64 f32; lanes 16k..16k + 16 are in bounds.
            let (vw, vx) = unsafe {
                (
                    _mm512_loadu_ps(cw.as_ptr().add(16 * k)),
                    _mm512_loadu_ps(cx.as_ptr().add(16 * k)),
                )
            };
            *acc = _mm512_fmadd_ps(vw, vx, *acc);
        }
    }
    for (cw, cx) in wc.remainder().chunks(16).zip(xc.remainder().chunks(16)) {
        let mask = ((1u32 << cw.len()) - 1) as __mmask16;
        // SAFETY: a masked load reads only the `cw.len()` (== `cx.len()`) lanes of the
        // mask, all inside the chunks.
        let (vw, vx) = unsafe {
            (
                _mm512_maskz_loadu_ps(mask, cw.as_ptr()),
                _mm512_maskz_loadu_ps(mask, cx.as_ptr()),
            )
        };
        acc[0] = _mm512_fmadd_ps(vw, vx, acc[0]);
    }
    let v = _mm512_add_ps(_mm512_add_ps(acc[0], acc[1]), _mm512_add_ps(acc[2], acc[3]));
    _mm512_reduce_add_ps(v)
}

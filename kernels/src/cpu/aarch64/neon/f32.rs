//! f32 · f32 with NEON FMA.

use core::arch::aarch64::*;

/// NEON version of [`crate::cpu::scalar::vec_dot_f32`] (over the shorter length).
///
/// # Safety
/// The CPU must support NEON (every aarch64 CPU does).
#[target_feature(enable = "neon")]
pub unsafe fn vec_dot_f32(w: &[f32], x: &[f32]) -> f32 {
    let n = w.len().min(x.len());
    let (w, x) = (&w[..n], &x[..n]);
    let mut acc = [vdupq_n_f32(0.0); 4];
    let mut wc = w.chunks_exact(16);
    let mut xc = x.chunks_exact(16);
    for (cw, cx) in (&mut wc).zip(&mut xc) {
        for (k, acc) in acc.iter_mut().enumerate() {
            // SAFETY: both chunks hold 16 f32; lanes 4k..4k+4 are in bounds.
            let (vw, vx) = unsafe {
                (
                    vld1q_f32(cw.as_ptr().add(4 * k)),
                    vld1q_f32(cx.as_ptr().add(4 * k)),
                )
            };
            *acc = vfmaq_f32(*acc, vw, vx);
        }
    }
    let v = vaddq_f32(vaddq_f32(acc[0], acc[1]), vaddq_f32(acc[2], acc[3]));
    let tail = wc
        .remainder()
        .iter()
        .zip(xc.remainder())
        .fold(0.0f32, |s, (a, b)| a.mul_add(*b, s));
    vaddvq_f32(v) + tail
}

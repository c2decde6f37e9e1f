//! Q4_0 · Q8_0 with AVX2.

use super::{f16_to_f32, hsum_ps, load16, load32, unpack_nibbles};
use core::arch::x86_64::*;
use edge_quant::legacy::{BlockQ4_0, BlockQ8_0};

/// AVX2 version of [`crate::cpu::scalar::vec_dot_q4_0_q8_0`].
///
/// `Σ (q-8)·y` is computed as `Σ q·y - Σ 8·y` with `q` unsigned, which is exact for
/// every i8 activation (the sign trick would wrap on -128).
///
/// # Safety
/// The CPU must support AVX2, FMA and F16C.
#[target_feature(enable = "avx2,fma,f16c")]
pub unsafe fn vec_dot_q4_0_q8_0(w: &[BlockQ4_0], a: &[BlockQ8_0]) -> f32 {
    let eight = _mm256_set1_epi8(8);
    let ones = _mm256_set1_epi16(1);
    let mut acc = _mm256_setzero_ps();
    for (bw, ba) in w.iter().zip(a) {
        let d = _mm256_set1_ps(f16_to_f32(bw.d) * f16_to_f32(ba.d));
        let q = unpack_nibbles(load16(&bw.qs));
        let y = load32(&ba.qs);
        let p = _mm256_sub_epi16(_mm256_maddubs_epi16(q, y), _mm256_maddubs_epi16(eight, y));
        let s = _mm256_madd_epi16(p, ones);
        acc = _mm256_fmadd_ps(d, _mm256_cvtepi32_ps(s), acc);
    }
    hsum_ps(acc)
}

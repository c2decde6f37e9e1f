//! Q5_0 · Q8_0 with AVX2.

use super::{f16_to_f32, fifth_bits, hsum_ps, load16, load32, unpack_nibbles};
use core::arch::x86_64::*;
use edge_quant::legacy::{BlockQ5_0, BlockQ8_0};

/// AVX2 version of [`crate::cpu::scalar::vec_dot_q5_0_q8_0`].
///
/// Quants are rebuilt unsigned (0..=31) and `Σ (q-16)·y` computed as `Σ q·y - Σ 16·y`,
/// exact for every i8 activation.
///
/// # Safety
/// The CPU must support AVX2, FMA and F16C.
#[target_feature(enable = "avx2,fma,f16c")]
pub unsafe fn vec_dot_q5_0_q8_0(w: &[BlockQ5_0], a: &[BlockQ8_0]) -> f32 {
    let sixteen = _mm256_set1_epi8(16);
    let ones = _mm256_set1_epi16(1);
    let mut acc = _mm256_setzero_ps();
    for (bw, ba) in w.iter().zip(a) {
        let d = _mm256_set1_ps(f16_to_f32(bw.d) * f16_to_f32(ba.d));
        let q = _mm256_or_si256(unpack_nibbles(load16(&bw.qs)), fifth_bits(bw.qh));
        let y = load32(&ba.qs);
        let p = _mm256_sub_epi16(_mm256_maddubs_epi16(q, y), _mm256_maddubs_epi16(sixteen, y));
        let s = _mm256_madd_epi16(p, ones);
        acc = _mm256_fmadd_ps(d, _mm256_cvtepi32_ps(s), acc);
    }
    hsum_ps(acc)
}

//! Q5_1 · Q8_1 with AVX2.

use super::{f16_to_f32, fifth_bits, hsum_ps, load16, load32, unpack_nibbles};
use core::arch::x86_64::*;
use edge_quant::legacy::{BlockQ5_1, BlockQ8_1};

/// AVX2 version of [`crate::cpu::scalar::vec_dot_q5_1_q8_1`].
///
/// # Safety
/// The CPU must support AVX2, FMA and F16C.
#[target_feature(enable = "avx2,fma,f16c")]
pub unsafe fn vec_dot_q5_1_q8_1(w: &[BlockQ5_1], a: &[BlockQ8_1]) -> f32 {
    let ones = _mm256_set1_epi16(1);
    let mut acc = _mm256_setzero_ps();
    let mut mins = 0.0f32;
    for (bw, ba) in w.iter().zip(a) {
        let d = _mm256_set1_ps(f16_to_f32(bw.d) * f16_to_f32(ba.d));
        mins += f16_to_f32(bw.m) * f16_to_f32(ba.s);
        let q = _mm256_or_si256(unpack_nibbles(load16(&bw.qs)), fifth_bits(bw.qh));
        let s = _mm256_madd_epi16(_mm256_maddubs_epi16(q, load32(&ba.qs)), ones);
        acc = _mm256_fmadd_ps(d, _mm256_cvtepi32_ps(s), acc);
    }
    hsum_ps(acc) + mins
}

//! Q4_1 · Q8_1 with AVX2.

use super::{f16_to_f32, hsum_ps, load16, load32, unpack_nibbles};
use core::arch::x86_64::*;
use edge_quant::legacy::{BlockQ4_1, BlockQ8_1};

/// AVX2 version of [`crate::cpu::scalar::vec_dot_q4_1_q8_1`].
///
/// # Safety
/// The CPU must support AVX2, FMA and F16C.
#[target_feature(enable = "avx2,fma,f16c")]
pub unsafe fn vec_dot_q4_1_q8_1(w: &[BlockQ4_1], a: &[BlockQ8_1]) -> f32 {
    let ones = _mm256_set1_epi16(1);
    let mut acc = _mm256_setzero_ps();
    let mut mins = 0.0f32;
    for (bw, ba) in w.iter().zip(a) {
        let d = _mm256_set1_ps(f16_to_f32(bw.d) * f16_to_f32(ba.d));
        mins += f16_to_f32(bw.m) * f16_to_f32(ba.s);
        let q = unpack_nibbles(load16(&bw.qs));
        let y = load32(&ba.qs);
        let s = _mm256_madd_epi16(_mm256_maddubs_epi16(q, y), ones);
        acc = _mm256_fmadd_ps(d, _mm256_cvtepi32_ps(s), acc);
    }
    hsum_ps(acc) + mins
}

//! Q2_K · Q8_K with AVX2.

use super::{f16_to_f32, hsum_ps, load32};
use core::arch::x86_64::*;
use edge_quant::k_quants::{BlockQ2K, BlockQ8K};

/// AVX2 version of [`crate::cpu::scalar::vec_dot_q2_k_q8_k`].
///
/// # Safety
/// The CPU must support AVX2, FMA and F16C.
#[target_feature(enable = "avx2,fma,f16c")]
pub unsafe fn vec_dot_q2_k_q8_k(w: &[BlockQ2K], a: &[BlockQ8K]) -> f32 {
    let m2 = _mm256_set1_epi8(3);
    let mut acc = _mm256_setzero_ps();
    let mut mins = 0.0f32;
    for (bw, ba) in w.iter().zip(a) {
        let da = ba.d();
        let qs: &[[u8; 32]; 2] = bytemuck::cast_ref(&bw.qs);
        let ys: &[[u8; 32]; 8] = bytemuck::cast_ref(&ba.qs);
        let mut sumi = _mm256_setzero_si256();
        for (h, q) in qs.iter().enumerate() {
            let q = load32(q);
            for k in 0..4 {
                let qk = _mm256_and_si256(_mm256_srl_epi16(q, _mm_cvtsi32_si128(2 * k)), m2);
                let p = _mm256_maddubs_epi16(qk, load32(&ys[4 * h + k as usize]));
                // The low 128 bits hold sub-block s, the high 128 bits sub-block s + 1.
                let s = 8 * h + 2 * k as usize;
                let sc = _mm256_set_m128i(
                    _mm_set1_epi16(i16::from(bw.scales[s + 1] & 0x0f)),
                    _mm_set1_epi16(i16::from(bw.scales[s] & 0x0f)),
                );
                sumi = _mm256_add_epi32(sumi, _mm256_madd_epi16(p, sc));
            }
        }
        let summ: i32 = (0..16)
            .map(|s| i32::from(bw.scales[s] >> 4) * i32::from(ba.bsum(s)))
            .sum();
        let d = _mm256_set1_ps(f16_to_f32(bw.d) * da);
        acc = _mm256_fmadd_ps(d, _mm256_cvtepi32_ps(sumi), acc);
        mins += (f16_to_f32(bw.dmin) * da) * summ as f32;
    }
    hsum_ps(acc) - mins
}

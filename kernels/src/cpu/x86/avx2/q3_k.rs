//! Q3_K · Q8_K with AVX2.

use super::{f16_to_f32, hsum_ps, load32};
use core::arch::x86_64::*;
use edge_quant::k_quants::{BlockQ3K, BlockQ8K};

/// AVX2 version of [`crate::cpu::scalar::vec_dot_q3_k_q8_k`].
///
/// Quants are rebuilt unsigned (0..=7) and `Σ (q-4)·y` computed as `Σ q·y - Σ 4·y`,
/// exact for every i8 activation.
///
/// # Safety
/// The CPU must support AVX2, FMA and F16C.
#[target_feature(enable = "avx2,fma,f16c")]
pub unsafe fn vec_dot_q3_k_q8_k(w: &[BlockQ3K], a: &[BlockQ8K]) -> f32 {
    let m2 = _mm256_set1_epi8(3);
    let one = _mm256_set1_epi8(1);
    let four = _mm256_set1_epi8(4);
    let mut acc = _mm256_setzero_ps();
    for (bw, ba) in w.iter().zip(a) {
        let qs: &[[u8; 32]; 2] = bytemuck::cast_ref(&bw.qs);
        let ys: &[[u8; 32]; 8] = bytemuck::cast_ref(&ba.qs);
        let hm = load32(&bw.hmask);
        let mut sumi = _mm256_setzero_si256();
        for (h, q) in qs.iter().enumerate() {
            let q = load32(q);
            for k in 0..4 {
                let low = _mm256_and_si256(_mm256_srl_epi16(q, _mm_cvtsi32_si128(2 * k)), m2);
                let hbit = _mm256_srl_epi16(hm, _mm_cvtsi32_si128(4 * h as i32 + k));
                let high = _mm256_slli_epi16::<2>(_mm256_and_si256(hbit, one));
                let qk = _mm256_or_si256(low, high);
                let y = load32(&ys[4 * h + k as usize]);
                let p =
                    _mm256_sub_epi16(_mm256_maddubs_epi16(qk, y), _mm256_maddubs_epi16(four, y));
                let s = 8 * h + 2 * k as usize;
                let sc = _mm256_set_m128i(
                    _mm_set1_epi16(i16::from(bw.scale(s + 1))),
                    _mm_set1_epi16(i16::from(bw.scale(s))),
                );
                sumi = _mm256_add_epi32(sumi, _mm256_madd_epi16(p, sc));
            }
        }
        let d = _mm256_set1_ps(f16_to_f32(bw.d) * ba.d());
        acc = _mm256_fmadd_ps(d, _mm256_cvtepi32_ps(sumi), acc);
    }
    hsum_ps(acc)
}

//! Q5_K · Q8_K with AVX2.

use super::{f16_to_f32, hsum_ps, load32};
use core::arch::x86_64::*;
use edge_quant::k_quants::{BlockQ5K, BlockQ8K};

/// AVX2 version of [`crate::cpu::scalar::vec_dot_q5_k_q8_k`].
///
/// # Safety
/// The CPU must support AVX2, FMA and F16C.
#[target_feature(enable = "avx2,fma,f16c")]
pub unsafe fn vec_dot_q5_k_q8_k(w: &[BlockQ5K], a: &[BlockQ8K]) -> f32 {
    let m4 = _mm256_set1_epi8(0x0f);
    let one = _mm256_set1_epi8(1);
    let mut acc = _mm256_setzero_ps();
    let mut mins = 0.0f32;
    for (bw, ba) in w.iter().zip(a) {
        let da = ba.d();
        let qs: &[[u8; 32]; 4] = bytemuck::cast_ref(&bw.qs);
        let ys: &[[u8; 32]; 8] = bytemuck::cast_ref(&ba.qs);
        let hb = load32(&bw.qh);
        let mut sumi = _mm256_setzero_si256();
        let mut summ = 0i32;
        for c in 0..4 {
            let (sc0, m0) = bw.scale_min(2 * c);
            let (sc1, m1) = bw.scale_min(2 * c + 1);
            let q = load32(&qs[c]);
            // Bits 2c and 2c+1 of each qh byte are the fifth bits of the two sub-blocks.
            let h = _mm256_srl_epi16(hb, _mm_cvtsi32_si128(2 * c as i32));
            let h0 = _mm256_slli_epi16::<4>(_mm256_and_si256(h, one));
            let h1 = _mm256_slli_epi16::<3>(_mm256_and_si256(h, _mm256_set1_epi8(2)));
            let lo = _mm256_or_si256(_mm256_and_si256(q, m4), h0);
            let hi = _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16::<4>(q), m4), h1);
            let p0 = _mm256_maddubs_epi16(lo, load32(&ys[2 * c]));
            let p1 = _mm256_maddubs_epi16(hi, load32(&ys[2 * c + 1]));
            let p0 = _mm256_madd_epi16(p0, _mm256_set1_epi16(i16::from(sc0)));
            let p1 = _mm256_madd_epi16(p1, _mm256_set1_epi16(i16::from(sc1)));
            sumi = _mm256_add_epi32(sumi, _mm256_add_epi32(p0, p1));
            let b0 = i32::from(ba.bsum(4 * c)) + i32::from(ba.bsum(4 * c + 1));
            let b1 = i32::from(ba.bsum(4 * c + 2)) + i32::from(ba.bsum(4 * c + 3));
            summ += i32::from(m0) * b0 + i32::from(m1) * b1;
        }
        let d = _mm256_set1_ps(f16_to_f32(bw.d) * da);
        acc = _mm256_fmadd_ps(d, _mm256_cvtepi32_ps(sumi), acc);
        mins += (f16_to_f32(bw.dmin) * da) * summ as f32;
    }
    hsum_ps(acc) - mins
}

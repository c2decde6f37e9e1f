//! Q6_K · Q8_K with AVX2.

use super::{f16_to_f32, hsum_ps, load32};
use core::arch::x86_64::*;
use edge_quant::k_quants::{BlockQ6K, BlockQ8K};

/// AVX2 version of [`crate::cpu::scalar::vec_dot_q6_k_q8_k`].
///
/// Quants are rebuilt unsigned (0..=63) and `Σ (q-32)·y` computed as `Σ q·y - Σ 32·y`,
/// exact for every i8 activation.
///
/// # Safety
/// The CPU must support AVX2, FMA and F16C.
#[target_feature(enable = "avx2,fma,f16c")]
pub unsafe fn vec_dot_q6_k_q8_k(w: &[BlockQ6K], a: &[BlockQ8K]) -> f32 {
    let m4 = _mm256_set1_epi8(0x0f);
    let m2 = _mm256_set1_epi8(3);
    let k32 = _mm256_set1_epi8(32);
    let mut acc = _mm256_setzero_ps();
    for (bw, ba) in w.iter().zip(a) {
        let ql: &[[u8; 32]; 4] = bytemuck::cast_ref(&bw.ql);
        let qh: &[[u8; 32]; 2] = bytemuck::cast_ref(&bw.qh);
        let ys: &[[u8; 32]; 8] = bytemuck::cast_ref(&ba.qs);
        let mut sumi = _mm256_setzero_si256();
        for h in 0..2 {
            let l0 = load32(&ql[2 * h]);
            let l1 = load32(&ql[2 * h + 1]);
            let hb = load32(&qh[h]);
            let low = [
                _mm256_and_si256(l0, m4),
                _mm256_and_si256(l1, m4),
                _mm256_and_si256(_mm256_srli_epi16::<4>(l0), m4),
                _mm256_and_si256(_mm256_srli_epi16::<4>(l1), m4),
            ];
            let high = [
                _mm256_and_si256(hb, m2),
                _mm256_and_si256(_mm256_srli_epi16::<2>(hb), m2),
                _mm256_and_si256(_mm256_srli_epi16::<4>(hb), m2),
                _mm256_and_si256(_mm256_srli_epi16::<6>(hb), m2),
            ];
            for k in 0..4 {
                let q = _mm256_or_si256(low[k], _mm256_slli_epi16::<4>(high[k]));
                let y = load32(&ys[4 * h + k]);
                let p = _mm256_sub_epi16(_mm256_maddubs_epi16(q, y), _mm256_maddubs_epi16(k32, y));
                let j = 8 * h + 2 * k;
                let sc = _mm256_set_m128i(
                    _mm_set1_epi16(i16::from(bw.scale(j + 1))),
                    _mm_set1_epi16(i16::from(bw.scale(j))),
                );
                sumi = _mm256_add_epi32(sumi, _mm256_madd_epi16(p, sc));
            }
        }
        let d = _mm256_set1_ps(f16_to_f32(bw.d) * ba.d());
        acc = _mm256_fmadd_ps(d, _mm256_cvtepi32_ps(sumi), acc);
    }
    hsum_ps(acc)
}

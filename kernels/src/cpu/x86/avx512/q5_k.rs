//! Q5_K · Q8_K with AVX-512 VNNI.

use super::q4_k::{bcast32, bytes_i16, load64, min_sums, pair_index, scales_mins};
use crate::cpu::x86::avx2::{f16_to_f32, hsum_ps};
use core::arch::x86_64::*;
use edge_quant::k_quants::{BlockQ5K, BlockQ8K};

/// AVX-512 VNNI version of [`crate::cpu::scalar::vec_dot_q5_k_q8_k`]: as
/// [`super::vec_dot_q4_k_q8_k`], with each quant's fifth bit (bit `j` of `qh[l]` for
/// element `l` of sub-block `j`) tested into a byte mask and added as 16 (sums of pairs
/// at most 2·31·128, so `maddubs` never saturates).
///
/// # Safety
/// The CPU must support AVX-512 F/BW/VL/VNNI, AVX2, FMA and F16C.
#[target_feature(enable = "avx512f,avx512bw,avx512vl,avx512vnni,avx2,fma,f16c")]
pub unsafe fn vec_dot_q5_k_q8_k(w: &[BlockQ5K], a: &[BlockQ8K]) -> f32 {
    let m4 = _mm512_set1_epi8(0x0f);
    let sixteen = _mm512_set1_epi8(16);
    let shift = super::join_si(_mm256_setzero_si256(), _mm256_set1_epi16(4));
    // The qh bit of sub-block 2c in the low half, of 2c + 1 in the high half.
    let bits: [__m512i; 4] = std::array::from_fn(|c| {
        super::join_si(
            _mm256_set1_epi8(1 << (2 * c)),
            _mm256_set1_epi8((1u8 << (2 * c + 1)) as i8),
        )
    });
    let idx = pair_index();
    let mut acc = _mm512_setzero_ps();
    let mut macc = _mm256_setzero_ps();
    for (bw, ba) in w.iter().zip(a) {
        let (sc, mins) = scales_mins(&bw.scales);
        let sc = bytes_i16(sc);
        let hb = bcast32(&bw.qh);
        let mut isum = [_mm512_setzero_si512(); 2];
        for c in 0..4 {
            let q = _mm512_and_si512(_mm512_srlv_epi16(bcast32(&bw.qs[32 * c..]), shift), m4);
            let q = _mm512_mask_add_epi8(q, _mm512_test_epi8_mask(hb, bits[c]), q, sixteen);
            let p = _mm512_maddubs_epi16(q, load64(&ba.qs[64 * c..]));
            let s = _mm512_permutexvar_epi16(idx[c], sc);
            isum[c % 2] = _mm512_dpwssd_epi32(isum[c % 2], p, s);
        }
        let da = ba.d();
        let isum = _mm512_add_epi32(isum[0], isum[1]);
        let d = _mm512_set1_ps(f16_to_f32(bw.d) * da);
        acc = _mm512_fmadd_ps(d, _mm512_cvtepi32_ps(isum), acc);
        let dmin = _mm256_set1_ps(f16_to_f32(bw.dmin) * da);
        macc = _mm256_fmadd_ps(dmin, _mm256_cvtepi32_ps(min_sums(mins, ba)), macc);
    }
    _mm512_reduce_add_ps(acc) - hsum_ps(macc)
}

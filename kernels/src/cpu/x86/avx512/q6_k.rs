//! Q6_K · Q8_K with AVX-512 VNNI.

use super::q4_k::{bcast32, load64};
use crate::cpu::x86::avx2::f16_to_f32;
use core::arch::x86_64::*;
use edge_quant::k_quants::{BlockQ6K, BlockQ8K};

/// AVX-512 VNNI version of [`crate::cpu::scalar::vec_dot_q6_k_q8_k`].
///
/// Per half block (128 quants): the 64 bytes of low nibbles give quants 0..64 (low
/// nibbles) and 64..128 (high nibbles); the 32 bytes of high bits, in both halves of a
/// vector and shifted per half, give their top two bits. Quants are rebuilt unsigned
/// (0..=63) and `Σ (q-32)·y` taken as `maddubs(q, y) - maddubs(32, y)` per i16 pair
/// (exact: at most 2·63·128), then one `vpdpwssd` per 64 quants with the four 16-element
/// scales of its 128-bit lanes. One f32 FMA per block, one horizontal sum per row.
///
/// # Safety
/// The CPU must support AVX-512 F/BW/VL/VNNI, AVX2, FMA and F16C.
#[target_feature(enable = "avx512f,avx512bw,avx512vl,avx512vnni,avx2,fma,f16c")]
pub unsafe fn vec_dot_q6_k_q8_k(w: &[BlockQ6K], a: &[BlockQ8K]) -> f32 {
    let m4 = _mm512_set1_epi8(0x0f);
    let m30 = _mm512_set1_epi8(0x30);
    let k32 = _mm512_set1_epi8(32);
    let join = |lo: i16, hi: i16| super::join_si(_mm256_set1_epi16(lo), _mm256_set1_epi16(hi));
    // High bits to bits 4..6: bits 0..2 of each byte (low half), 2..4 (high half), then
    // 4..6 and 6..8.
    let (up, down) = (join(4, 2), join(0, 2));
    // Scale `4v + L` in every i16 of 128-bit lane `L`, for the four vectors `v` of a block.
    let lanes = _mm512_set_epi32(
        0x3_0003, 0x3_0003, 0x3_0003, 0x3_0003, 0x2_0002, 0x2_0002, 0x2_0002, 0x2_0002, 0x1_0001,
        0x1_0001, 0x1_0001, 0x1_0001, 0, 0, 0, 0,
    );
    let idx: [__m512i; 4] =
        std::array::from_fn(|v| _mm512_add_epi16(lanes, _mm512_set1_epi16(4 * v as i16)));
    let mut acc = _mm512_setzero_ps();
    for (bw, ba) in w.iter().zip(a) {
        // SAFETY: `scales` is 16 readable bytes; `loadu` has no alignment requirement.
        let sc = unsafe { _mm_loadu_si128(bw.scales.as_ptr().cast()) };
        let sc = _mm512_zextsi256_si512(_mm256_cvtepi8_epi16(sc));
        let mut isum = [_mm512_setzero_si512(); 2];
        for h in 0..2 {
            let l = load64(&bw.ql[64 * h..]);
            let hb = bcast32(&bw.qh[32 * h..]);
            let q = [
                _mm512_or_si512(
                    _mm512_and_si512(l, m4),
                    _mm512_and_si512(_mm512_sllv_epi16(hb, up), m30),
                ),
                _mm512_or_si512(
                    _mm512_and_si512(_mm512_srli_epi16::<4>(l), m4),
                    _mm512_and_si512(_mm512_srlv_epi16(hb, down), m30),
                ),
            ];
            for (k, q) in q.into_iter().enumerate() {
                let y = load64(&ba.qs[128 * h + 64 * k..]);
                let p = _mm512_sub_epi16(_mm512_maddubs_epi16(q, y), _mm512_maddubs_epi16(k32, y));
                let s = _mm512_permutexvar_epi16(idx[2 * h + k], sc);
                isum[k] = _mm512_dpwssd_epi32(isum[k], p, s);
            }
        }
        let isum = _mm512_add_epi32(isum[0], isum[1]);
        let d = _mm512_set1_ps(f16_to_f32(bw.d) * ba.d());
        acc = _mm512_fmadd_ps(d, _mm512_cvtepi32_ps(isum), acc);
    }
    _mm512_reduce_add_ps(acc)
}

//! Q4_K · Q8_K with AVX-512 VNNI, and the parts Q5_K shares with it.

use crate::cpu::x86::avx2::{f16_to_f32, hsum_ps};
use core::arch::x86_64::*;
use edge_quant::k_quants::{BlockQ4K, BlockQ8K};

/// The eight 6-bit scales and the eight 6-bit mins of a Q4_K/Q5_K block, one byte per
/// sub-block (sub-block 0 in the lowest byte), as `BlockQ4K::scale_min` reads them:
/// bytes 0..4 hold scales 0..4 and bytes 4..8 mins 0..4 in their low six bits; bytes
/// 8..12 hold the low four bits of scales 4..8 (low nibble) and mins 4..8 (high
/// nibble), whose top two bits are the top bits of bytes 0..4 and 4..8.
#[inline]
pub(super) fn scales_mins(q: &[u8; 12]) -> (u64, u64) {
    let word = |i: usize| u32::from_le_bytes([q[4 * i], q[4 * i + 1], q[4 * i + 2], q[4 * i + 3]]);
    let (a0, a1, a2) = (word(0), word(1), word(2));
    let low6 = 0x3f3f_3f3f;
    let top2 = 0x0303_0303;
    let sc_hi = (a2 & 0x0f0f_0f0f) | (((a0 >> 6) & top2) << 4);
    let m_hi = ((a2 >> 4) & 0x0f0f_0f0f) | (((a1 >> 6) & top2) << 4);
    (
        u64::from(a0 & low6) | (u64::from(sc_hi) << 32),
        u64::from(a1 & low6) | (u64::from(m_hi) << 32),
    )
}

/// The eight bytes of `v` widened to i16, in the low 128 bits.
#[inline]
#[target_feature(enable = "avx512f,avx2")]
pub(super) fn bytes_i16(v: u64) -> __m512i {
    _mm512_zextsi128_si512(_mm_cvtepu8_epi16(_mm_cvtsi64_si128(v as i64)))
}

/// Word indices that spread i16 `2c` over the low 256 bits and `2c + 1` over the high
/// 256 bits, for `c` in 0..4 (the scales of the two sub-blocks of chunk `c`).
#[inline]
#[target_feature(enable = "avx512f,avx2")]
pub(super) fn pair_index() -> [__m512i; 4] {
    std::array::from_fn(|c| {
        let c = c as i16;
        super::join_si(_mm256_set1_epi16(2 * c), _mm256_set1_epi16(2 * c + 1))
    })
}

/// `Σ_j m_j·(bsum_2j + bsum_2j+1)` per sub-block `j`, in eight i32 lanes.
#[inline]
#[target_feature(enable = "avx512f,avx2")]
pub(super) fn min_sums(mins: u64, a: &BlockQ8K) -> __m256i {
    let m = _mm_cvtsi64_si128(mins as i64);
    // Each min twice, once per 16-element half of its sub-block.
    let m = _mm256_cvtepu8_epi16(_mm_unpacklo_epi8(m, m));
    _mm256_madd_epi16(load_bsums(a), m)
}

/// The sixteen i16 sums of a Q8_K block.
#[inline]
#[target_feature(enable = "avx2")]
fn load_bsums(a: &BlockQ8K) -> __m256i {
    // SAFETY: `bsums` is 32 readable bytes; `loadu` has no alignment requirement.
    unsafe { _mm256_loadu_si256(a.bsums.as_ptr().cast()) }
}

/// Loads 64 bytes.
#[inline]
#[target_feature(enable = "avx512f")]
pub(super) fn load64(b: &[u8]) -> __m512i {
    let b: &[u8; 64] = b.first_chunk().unwrap_or(&[0; 64]);
    // SAFETY: `b` is 64 readable bytes; `loadu` has no alignment requirement.
    unsafe { _mm512_loadu_si512(b.as_ptr().cast()) }
}

/// 32 bytes, in both halves.
#[inline]
#[target_feature(enable = "avx512f")]
pub(super) fn bcast32(b: &[u8]) -> __m512i {
    let b: &[u8; 32] = b.first_chunk().unwrap_or(&[0; 32]);
    // SAFETY: `b` is 32 readable bytes; `loadu` has no alignment requirement.
    _mm512_broadcast_i64x4(unsafe { _mm256_loadu_si256(b.as_ptr().cast()) })
}

/// AVX-512 VNNI version of [`crate::cpu::scalar::vec_dot_q4_k_q8_k`].
///
/// Per 64 quants (one 32-byte chunk of nibbles, loaded into both halves and shifted by
/// 0 and 4: sub-blocks `2c` and `2c + 1`), one `maddubs` (u8·i8 pairs into i16, at most
/// 2·15·128 so never saturating) and one `vpdpwssd` with the sub-blocks' scales; the
/// mins meet the activation's stored sums in one `madd` per block. Integer parts exact,
/// one f32 FMA per block for each, one horizontal sum per row.
///
/// # Safety
/// The CPU must support AVX-512 F/BW/VL/VNNI, AVX2, FMA and F16C.
#[target_feature(enable = "avx512f,avx512bw,avx512vl,avx512vnni,avx2,fma,f16c")]
pub unsafe fn vec_dot_q4_k_q8_k(w: &[BlockQ4K], a: &[BlockQ8K]) -> f32 {
    let m4 = _mm512_set1_epi8(0x0f);
    let shift = super::join_si(_mm256_setzero_si256(), _mm256_set1_epi16(4));
    let idx = pair_index();
    let mut acc = _mm512_setzero_ps();
    let mut macc = _mm256_setzero_ps();
    for (bw, ba) in w.iter().zip(a) {
        let (sc, mins) = scales_mins(&bw.scales);
        let sc = bytes_i16(sc);
        let mut isum = [_mm512_setzero_si512(); 2];
        for c in 0..4 {
            let q = _mm512_and_si512(_mm512_srlv_epi16(bcast32(&bw.qs[32 * c..]), shift), m4);
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

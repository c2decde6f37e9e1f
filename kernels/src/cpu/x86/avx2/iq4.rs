//! IQ4_NL · Q8_0 and IQ4_XS · Q8_K with AVX2.

use super::q8_0::widen_i8;
use super::{f16_to_f32, hsum_ps, load16, load32, unpack_nibbles};
use core::arch::x86_64::*;
use edge_quant::iq4::{BlockIQ4_NL, BlockIQ4_XS, KVALUES};
use edge_quant::k_quants::BlockQ8K;
use edge_quant::legacy::BlockQ8_0;

/// The 16 levels in both 128-bit lanes, for `pshufb` lookups.
#[inline]
#[target_feature(enable = "avx2")]
fn levels() -> __m256i {
    let t: &[u8; 16] = bytemuck::cast_ref(&KVALUES);
    _mm256_broadcastsi128_si256(load16(t))
}

/// `Σ KVALUES[q]·y` of one 32-element group, in eight i32 lanes: the levels are looked up
/// with `pshufb`, then both sides widened to i16 and multiplied with `madd` (exact for
/// every i8 activation, including -128, which the `maddubs` sign trick would wrap).
#[inline]
#[target_feature(enable = "avx2")]
fn group(levels: __m256i, qs: &[u8; 16], y: __m256i) -> __m256i {
    let x = _mm256_shuffle_epi8(levels, unpack_nibbles(load16(qs)));
    let (xl, xh) = widen_i8(x);
    let (yl, yh) = widen_i8(y);
    _mm256_add_epi32(_mm256_madd_epi16(xl, yl), _mm256_madd_epi16(xh, yh))
}

/// AVX2 version of [`crate::cpu::scalar::vec_dot_iq4_nl_q8_0`].
///
/// # Safety
/// The CPU must support AVX2, FMA and F16C.
#[target_feature(enable = "avx2,fma,f16c")]
pub unsafe fn vec_dot_iq4_nl_q8_0(w: &[BlockIQ4_NL], a: &[BlockQ8_0]) -> f32 {
    let lv = levels();
    let mut acc = _mm256_setzero_ps();
    for (bw, ba) in w.iter().zip(a) {
        let d = _mm256_set1_ps(f16_to_f32(bw.d) * f16_to_f32(ba.d));
        let s = group(lv, &bw.qs, load32(&ba.qs));
        acc = _mm256_fmadd_ps(d, _mm256_cvtepi32_ps(s), acc);
    }
    hsum_ps(acc)
}

/// AVX2 version of [`crate::cpu::scalar::vec_dot_iq4_xs_q8_k`].
///
/// # Safety
/// The CPU must support AVX2, FMA and F16C.
#[target_feature(enable = "avx2,fma,f16c")]
pub unsafe fn vec_dot_iq4_xs_q8_k(w: &[BlockIQ4_XS], a: &[BlockQ8K]) -> f32 {
    let lv = levels();
    let mut acc = _mm256_setzero_ps();
    for (bw, ba) in w.iter().zip(a) {
        let qs: &[[u8; 16]; 8] = bytemuck::cast_ref(&bw.qs);
        let ys: &[[u8; 32]; 8] = bytemuck::cast_ref(&ba.qs);
        let mut sumi = _mm256_setzero_si256();
        for ib in 0..8 {
            let s = group(lv, &qs[ib], load32(&ys[ib]));
            let ls = _mm256_set1_epi32(bw.sub_scale(ib));
            sumi = _mm256_add_epi32(sumi, _mm256_mullo_epi32(s, ls));
        }
        let d = _mm256_set1_ps(f16_to_f32(bw.d) * ba.d());
        acc = _mm256_fmadd_ps(d, _mm256_cvtepi32_ps(sumi), acc);
    }
    hsum_ps(acc)
}

//! Q8_0 · Q8_0 with AVX-512 VNNI.

use super::join_si;
use crate::cpu::x86::avx2::{f16_to_f32, hsum_ps, load32};
use core::arch::x86_64::*;
use edge_quant::legacy::BlockQ8_0;

/// The f16 scales of four blocks as one word.
#[inline]
fn scales4(b: &[BlockQ8_0]) -> i64 {
    i64::from_le_bytes([
        b[0].d[0], b[0].d[1], b[1].d[0], b[1].d[1], b[2].d[0], b[2].d[1], b[3].d[0], b[3].d[1],
    ])
}

/// `Σ x·y` per group of four bytes of two blocks, the weights `x + 128` (see
/// [`vec_dot_q8_0_q8_0`]).
#[inline]
#[target_feature(enable = "avx512f,avx512bw,avx512vnni,avx2")]
fn dot2(x0: &BlockQ8_0, x1: &BlockQ8_0, y0: &BlockQ8_0, y1: &BlockQ8_0) -> __m512i {
    let zero = _mm512_setzero_si512();
    let x = _mm512_xor_si512(
        join_si(load32(&x0.qs), load32(&x1.qs)),
        _mm512_set1_epi8(i8::MIN),
    );
    let y = join_si(load32(&y0.qs), load32(&y1.qs));
    let sy = _mm512_slli_epi32::<7>(_mm512_dpbusd_epi32(zero, _mm512_set1_epi8(1), y));
    _mm512_sub_epi32(_mm512_dpbusd_epi32(zero, x, y), sy)
}

/// AVX-512 VNNI version of [`crate::cpu::scalar::vec_dot_q8_0_q8_0`].
///
/// The signed weights are biased to unsigned (`x + 128`, an XOR of the sign bit), so
/// `Σ x·y = dpbusd(x + 128, y) - 128·Σ y`, exact for every i8 pair. Four blocks per
/// step, their scales converted together; one horizontal sum per row.
///
/// # Safety
/// The CPU must support AVX-512 F/BW/VL/VNNI, AVX2, FMA and F16C.
#[target_feature(enable = "avx512f,avx512bw,avx512vl,avx512vnni,avx2,fma,f16c")]
pub unsafe fn vec_dot_q8_0_q8_0(w: &[BlockQ8_0], a: &[BlockQ8_0]) -> f32 {
    let n = w.len().min(a.len());
    let (w, a) = (&w[..n], &a[..n]);
    // Lanes 0 and 1 (blocks 0 and 1), then 2 and 3, eight times each.
    let lo = _mm512_set_epi32(1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0);
    let hi = _mm512_set_epi32(3, 3, 3, 3, 3, 3, 3, 3, 2, 2, 2, 2, 2, 2, 2, 2);
    let mut acc0 = _mm512_setzero_ps();
    let mut acc1 = _mm512_setzero_ps();
    let mut wp = w.chunks_exact(4);
    let mut ap = a.chunks_exact(4);
    for (bw, ba) in (&mut wp).zip(&mut ap) {
        let dw = _mm_cvtph_ps(_mm_cvtsi64_si128(scales4(bw)));
        let da = _mm_cvtph_ps(_mm_cvtsi64_si128(scales4(ba)));
        let p = _mm512_castps128_ps512(_mm_mul_ps(dw, da));
        let s01 = dot2(&bw[0], &bw[1], &ba[0], &ba[1]);
        let s23 = dot2(&bw[2], &bw[3], &ba[2], &ba[3]);
        acc0 = _mm512_fmadd_ps(_mm512_permutexvar_ps(lo, p), _mm512_cvtepi32_ps(s01), acc0);
        acc1 = _mm512_fmadd_ps(_mm512_permutexvar_ps(hi, p), _mm512_cvtepi32_ps(s23), acc1);
    }
    let mut tail = _mm256_setzero_ps();
    for (bw, ba) in wp.remainder().iter().zip(ap.remainder()) {
        let z = _mm256_setzero_si256();
        let d = _mm256_set1_ps(f16_to_f32(bw.d) * f16_to_f32(ba.d));
        let x = _mm256_xor_si256(load32(&bw.qs), _mm256_set1_epi8(i8::MIN));
        let y = load32(&ba.qs);
        let sy = _mm256_slli_epi32::<7>(_mm256_dpbusd_epi32(z, _mm256_set1_epi8(1), y));
        let s = _mm256_sub_epi32(_mm256_dpbusd_epi32(z, x, y), sy);
        tail = _mm256_fmadd_ps(d, _mm256_cvtepi32_ps(s), tail);
    }
    _mm512_reduce_add_ps(_mm512_add_ps(acc0, acc1)) + hsum_ps(tail)
}

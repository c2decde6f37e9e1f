//! Q8_0 · Q8_0 with AVX-512 VNNI.

use super::{join_ps, join_si};
use crate::cpu::x86::avx2::{f16_to_f32, hsum_ps, load32};
use core::arch::x86_64::*;
use edge_quant::legacy::BlockQ8_0;

/// AVX-512 VNNI version of [`crate::cpu::scalar::vec_dot_q8_0_q8_0`].
///
/// The signed weights are biased to unsigned (`x + 128`, an XOR of the sign bit), so
/// `Σ x·y = dpbusd(x + 128, y) - 128·Σ y`, exact for every i8 pair.
///
/// # Safety
/// The CPU must support AVX-512 F/BW/VL/VNNI, AVX2, FMA and F16C.
#[target_feature(enable = "avx512f,avx512bw,avx512vl,avx512vnni,avx2,fma,f16c")]
pub unsafe fn vec_dot_q8_0_q8_0(w: &[BlockQ8_0], a: &[BlockQ8_0]) -> f32 {
    let n = w.len().min(a.len());
    let (w, a) = (&w[..n], &a[..n]);
    let bias = _mm512_set1_epi8(i8::MIN);
    let ones = _mm512_set1_epi8(1);
    let zero = _mm512_setzero_si512();
    let mut acc = _mm512_setzero_ps();
    let mut wp = w.chunks_exact(2);
    let mut ap = a.chunks_exact(2);
    for (bw, ba) in (&mut wp).zip(&mut ap) {
        let d = join_ps(
            f16_to_f32(bw[0].d) * f16_to_f32(ba[0].d),
            f16_to_f32(bw[1].d) * f16_to_f32(ba[1].d),
        );
        let x = _mm512_xor_si512(join_si(load32(&bw[0].qs), load32(&bw[1].qs)), bias);
        let y = join_si(load32(&ba[0].qs), load32(&ba[1].qs));
        let sy = _mm512_slli_epi32::<7>(_mm512_dpbusd_epi32(zero, ones, y));
        let s = _mm512_sub_epi32(_mm512_dpbusd_epi32(zero, x, y), sy);
        acc = _mm512_fmadd_ps(d, _mm512_cvtepi32_ps(s), acc);
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
    _mm512_reduce_add_ps(acc) + hsum_ps(tail)
}

//! Q5_1 · Q8_1 with AVX-512 VNNI.

use super::{join_ps, join_si};
use crate::cpu::x86::avx2::{f16_to_f32, fifth_bits, hsum_ps, load16, load32, unpack_nibbles};
use core::arch::x86_64::*;
use edge_quant::legacy::{BlockQ5_1, BlockQ8_1};

/// The unsigned 5-bit quants (0..=31) of a block, in element order.
#[inline]
#[target_feature(enable = "avx2")]
fn quants(b: &BlockQ5_1) -> __m256i {
    _mm256_or_si256(unpack_nibbles(load16(&b.qs)), fifth_bits(b.qh))
}

/// AVX-512 VNNI version of [`crate::cpu::scalar::vec_dot_q5_1_q8_1`]: the quants are
/// unsigned, so `dpbusd` sums `q·y` directly; the `m·s` terms are added apart.
///
/// # Safety
/// The CPU must support AVX-512 F/BW/VL/VNNI, AVX2, FMA and F16C.
#[target_feature(enable = "avx512f,avx512bw,avx512vl,avx512vnni,avx2,fma,f16c")]
pub unsafe fn vec_dot_q5_1_q8_1(w: &[BlockQ5_1], a: &[BlockQ8_1]) -> f32 {
    let n = w.len().min(a.len());
    let (w, a) = (&w[..n], &a[..n]);
    let zero = _mm512_setzero_si512();
    let mut acc = _mm512_setzero_ps();
    let mut mins = 0.0f32;
    let mut wp = w.chunks_exact(2);
    let mut ap = a.chunks_exact(2);
    for (bw, ba) in (&mut wp).zip(&mut ap) {
        let d = join_ps(
            f16_to_f32(bw[0].d) * f16_to_f32(ba[0].d),
            f16_to_f32(bw[1].d) * f16_to_f32(ba[1].d),
        );
        mins += f16_to_f32(bw[0].m) * f16_to_f32(ba[0].s);
        mins += f16_to_f32(bw[1].m) * f16_to_f32(ba[1].s);
        let q = join_si(quants(&bw[0]), quants(&bw[1]));
        let y = join_si(load32(&ba[0].qs), load32(&ba[1].qs));
        let s = _mm512_dpbusd_epi32(zero, q, y);
        acc = _mm512_fmadd_ps(d, _mm512_cvtepi32_ps(s), acc);
    }
    let mut tail = _mm256_setzero_ps();
    for (bw, ba) in wp.remainder().iter().zip(ap.remainder()) {
        let d = _mm256_set1_ps(f16_to_f32(bw.d) * f16_to_f32(ba.d));
        mins += f16_to_f32(bw.m) * f16_to_f32(ba.s);
        let s = _mm256_dpbusd_epi32(_mm256_setzero_si256(), quants(bw), load32(&ba.qs));
        tail = _mm256_fmadd_ps(d, _mm256_cvtepi32_ps(s), tail);
    }
    _mm512_reduce_add_ps(acc) + hsum_ps(tail) + mins
}

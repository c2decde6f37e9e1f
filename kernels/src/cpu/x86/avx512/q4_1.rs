//! Q4_1 · Q8_1 with AVX-512 VNNI.

use super::join_si;
use crate::cpu::x86::avx2::{f16_to_f32, hsum_ps, load16, load32, unpack_nibbles};
use core::arch::x86_64::*;
use edge_quant::legacy::{BlockQ4_1, BlockQ8_1};

/// The two f16 fields that open a block (`d` then `m`, or `d` then `s`) as one word.
#[inline]
fn pair(d: [u8; 2], m: [u8; 2]) -> i32 {
    i32::from_le_bytes([d[0], d[1], m[0], m[1]])
}

/// AVX-512 VNNI version of [`crate::cpu::scalar::vec_dot_q4_1_q8_1`].
///
/// Four blocks per step: the eight f16 scales of the weights (`d`, `m`) and of the
/// activations (`d`, `s`) are converted together, their products give the four `d·d`
/// factors (spread over each block's lanes by a permute) and the four `m·s` terms, which
/// stay in a vector until the end; one horizontal sum per row.
///
/// # Safety
/// The CPU must support AVX-512 F/BW/VL/VNNI, AVX2, FMA and F16C.
#[target_feature(enable = "avx512f,avx512bw,avx512vl,avx512vnni,avx2,fma,f16c")]
pub unsafe fn vec_dot_q4_1_q8_1(w: &[BlockQ4_1], a: &[BlockQ8_1]) -> f32 {
    let n = w.len().min(a.len());
    let (w, a) = (&w[..n], &a[..n]);
    let zero = _mm512_setzero_si512();
    // Lanes 0 and 2 (blocks 0 and 1), then lanes 4 and 6 (blocks 2 and 3), of
    // [d0, m0, d1, m1, d2, m2, d3, m3].
    let lo = _mm512_set_epi32(2, 2, 2, 2, 2, 2, 2, 2, 0, 0, 0, 0, 0, 0, 0, 0);
    let hi = _mm512_set_epi32(6, 6, 6, 6, 6, 6, 6, 6, 4, 4, 4, 4, 4, 4, 4, 4);
    let mut acc0 = _mm512_setzero_ps();
    let mut acc1 = _mm512_setzero_ps();
    let mut sacc = _mm256_setzero_ps();
    let mut wp = w.chunks_exact(4);
    let mut ap = a.chunks_exact(4);
    for (bw, ba) in (&mut wp).zip(&mut ap) {
        let ws = _mm_set_epi32(
            pair(bw[3].d, bw[3].m),
            pair(bw[2].d, bw[2].m),
            pair(bw[1].d, bw[1].m),
            pair(bw[0].d, bw[0].m),
        );
        let as_ = _mm_set_epi32(
            pair(ba[3].d, ba[3].s),
            pair(ba[2].d, ba[2].s),
            pair(ba[1].d, ba[1].s),
            pair(ba[0].d, ba[0].s),
        );
        let p = _mm256_mul_ps(_mm256_cvtph_ps(ws), _mm256_cvtph_ps(as_));
        sacc = _mm256_add_ps(sacc, p);
        let p = _mm512_castps256_ps512(p);
        let d01 = _mm512_permutexvar_ps(lo, p);
        let d23 = _mm512_permutexvar_ps(hi, p);
        let q01 = join_si(
            unpack_nibbles(load16(&bw[0].qs)),
            unpack_nibbles(load16(&bw[1].qs)),
        );
        let q23 = join_si(
            unpack_nibbles(load16(&bw[2].qs)),
            unpack_nibbles(load16(&bw[3].qs)),
        );
        let y01 = join_si(load32(&ba[0].qs), load32(&ba[1].qs));
        let y23 = join_si(load32(&ba[2].qs), load32(&ba[3].qs));
        let s01 = _mm512_dpbusd_epi32(zero, q01, y01);
        let s23 = _mm512_dpbusd_epi32(zero, q23, y23);
        acc0 = _mm512_fmadd_ps(d01, _mm512_cvtepi32_ps(s01), acc0);
        acc1 = _mm512_fmadd_ps(d23, _mm512_cvtepi32_ps(s23), acc1);
    }
    // The `m·s` terms sit in the odd lanes.
    let odd = _mm256_blend_ps::<0b1010_1010>(_mm256_setzero_ps(), sacc);
    let mut tail = odd;
    let mut mins = 0.0f32;
    for (bw, ba) in wp.remainder().iter().zip(ap.remainder()) {
        let d = _mm256_set1_ps(f16_to_f32(bw.d) * f16_to_f32(ba.d));
        mins += f16_to_f32(bw.m) * f16_to_f32(ba.s);
        let q = unpack_nibbles(load16(&bw.qs));
        let s = _mm256_dpbusd_epi32(_mm256_setzero_si256(), q, load32(&ba.qs));
        tail = _mm256_fmadd_ps(d, _mm256_cvtepi32_ps(s), tail);
    }
    _mm512_reduce_add_ps(_mm512_add_ps(acc0, acc1)) + hsum_ps(tail) + mins
}

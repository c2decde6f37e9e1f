//! AVX-512 inner loops of attention over a q8_0 value cache (see
//! [`crate::ops::attention_cached`]), and this tier's [`AttendParts`].

use core::arch::x86_64::*;
use edge_quant::legacy::BlockQ8_0;
use half::f16;

use super::attention::{dot_f32_f16, mad_f16, scale_f16};
use crate::ops::attention_cached::AttendParts;

/// AVX-512's attention parts.
pub(crate) const PARTS: AttendParts = AttendParts {
    dot_f16: dot_f32_f16,
    scale_f16,
    mad_f16,
    mad_q8_0,
};

/// `acc[i] += (d·q[i])·w` over the blocks of `v`, sixteen lanes at a time: each value
/// dequantized to f32, then one FMA into the accumulator.
#[inline]
#[target_feature(enable = "avx512f,avx2,fma,f16c")]
pub(crate) fn mad_q8_0(acc: &mut [f32], v: &[BlockQ8_0], w: f32) {
    let wv = _mm512_set1_ps(w);
    for (acc, b) in acc.chunks_exact_mut(32).zip(v) {
        let d = _mm512_set1_ps(f16::from_le_bytes(b.d).to_f32());
        for (a, q) in acc.chunks_exact_mut(16).zip(b.qs.chunks_exact(16)) {
            // SAFETY: `q` is a chunk of exactly 16 bytes and `a` of exactly 16 f32;
            // `loadu`/`storeu` have no alignment requirement.
            unsafe {
                let q = _mm_loadu_si128(q.as_ptr().cast());
                let x = _mm512_mul_ps(_mm512_cvtepi32_ps(_mm512_cvtepi8_epi32(q)), d);
                let r = _mm512_fmadd_ps(x, wv, _mm512_loadu_ps(a.as_ptr()));
                _mm512_storeu_ps(a.as_mut_ptr(), r);
            }
        }
    }
}

//! AVX2 inner loops of attention over a q8_0 value cache (see
//! [`crate::ops::attention_cached`]), and this tier's [`AttendParts`].

use core::arch::x86_64::*;
use edge_quant::legacy::BlockQ8_0;
use half::f16;

use super::attention::{dot_f32_f16, load_f32x8, mad_f16, scale_f16};
use crate::ops::attention_cached::AttendParts;

/// AVX2's attention parts.
pub(crate) const PARTS: AttendParts = AttendParts {
    dot_f16: dot_f32_f16,
    scale_f16,
    mad_f16,
    mad_q8_0,
};

/// Eight i8 widened to f32.
#[inline]
#[target_feature(enable = "avx2")]
fn load_i8x8(q: &[i8]) -> __m256 {
    assert!(q.len() >= 8);
    // SAFETY: `q` holds at least 8 bytes; `loadl_epi64` reads exactly 8, unaligned.
    let b = unsafe { _mm_loadl_epi64(q.as_ptr().cast()) };
    _mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(b))
}

/// `acc[i] += (d·q[i])·w` over the blocks of `v`: each value dequantized to f32, then one
/// FMA into the accumulator.
#[inline]
#[target_feature(enable = "avx2,fma,f16c")]
pub(crate) fn mad_q8_0(acc: &mut [f32], v: &[BlockQ8_0], w: f32) {
    let wv = _mm256_set1_ps(w);
    for (acc, b) in acc.chunks_exact_mut(32).zip(v) {
        let d = _mm256_set1_ps(f16::from_le_bytes(b.d).to_f32());
        for (a, q) in acc.chunks_exact_mut(8).zip(b.qs.chunks_exact(8)) {
            let x = _mm256_mul_ps(load_i8x8(q), d);
            let r = _mm256_fmadd_ps(x, wv, load_f32x8(a));
            // SAFETY: `a` is a chunk of exactly 8 f32; `storeu` has no alignment
            // requirement.
            unsafe { _mm256_storeu_ps(a.as_mut_ptr(), r) };
        }
    }
}

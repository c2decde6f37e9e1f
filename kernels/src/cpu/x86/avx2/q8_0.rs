//! Q8_0 · Q8_0 and the Q8_0 activation quantizer with AVX2.

use super::{f16_to_f32, hsum_ps, load32};
use core::arch::x86_64::*;
use edge_quant::legacy::{BlockQ8_0, QK};

/// Both 16-byte halves of `v`, sign-extended to i16.
#[inline]
#[target_feature(enable = "avx2")]
pub(crate) fn widen_i8(v: __m256i) -> (__m256i, __m256i) {
    (
        _mm256_cvtepi8_epi16(_mm256_castsi256_si128(v)),
        _mm256_cvtepi8_epi16(_mm256_extracti128_si256(v, 1)),
    )
}

/// AVX2 version of [`crate::cpu::scalar::vec_dot_q8_0_q8_0`].
///
/// Both sides are widened to i16 and multiplied with `madd`, exact for every i8 pair
/// (including -128·-128, which the sign trick would get wrong).
///
/// # Safety
/// The CPU must support AVX2, FMA and F16C.
#[target_feature(enable = "avx2,fma,f16c")]
pub unsafe fn vec_dot_q8_0_q8_0(w: &[BlockQ8_0], a: &[BlockQ8_0]) -> f32 {
    let mut acc = _mm256_setzero_ps();
    for (bw, ba) in w.iter().zip(a) {
        let d = _mm256_set1_ps(f16_to_f32(bw.d) * f16_to_f32(ba.d));
        let (xl, xh) = widen_i8(load32(&bw.qs));
        let (yl, yh) = widen_i8(load32(&ba.qs));
        let s = _mm256_add_epi32(_mm256_madd_epi16(xl, yl), _mm256_madd_epi16(xh, yh));
        acc = _mm256_fmadd_ps(d, _mm256_cvtepi32_ps(s), acc);
    }
    hsum_ps(acc)
}

/// Loads 8 f32.
#[inline]
#[target_feature(enable = "avx2")]
fn load8(x: &[f32; 8]) -> __m256 {
    // SAFETY: `x` is 8 readable f32; `loadu` has no alignment requirement.
    unsafe { _mm256_loadu_ps(x.as_ptr()) }
}

/// `v` rounded half away from zero (C's `roundf`), exactly: truncate, then step away
/// from zero when the dropped fraction is at least one half.
#[inline]
#[target_feature(enable = "avx2")]
fn round_half_away(v: __m256) -> __m256 {
    let sign = _mm256_set1_ps(-0.0);
    let t = _mm256_round_ps::<{ _MM_FROUND_TO_ZERO | _MM_FROUND_NO_EXC }>(v);
    let frac = _mm256_andnot_ps(sign, _mm256_sub_ps(v, t));
    let step = _mm256_or_ps(_mm256_and_ps(v, sign), _mm256_set1_ps(1.0));
    let up = _mm256_cmp_ps::<_CMP_GE_OQ>(frac, _mm256_set1_ps(0.5));
    _mm256_add_ps(t, _mm256_and_ps(up, step))
}

/// AVX2 version of [`crate::cpu::scalar::quantize_row_q8_0`], bit-exact with it.
///
/// The scale comes from the same f32 operations as the reference; the quants are
/// truncated to i32 as C casts on x86 (out of range and NaN give `i32::MIN`) and keep
/// their low byte, like the reference. A block containing a NaN takes the scalar path,
/// because ggml's sequential `MAX` is order-dependent with NaNs.
///
/// # Safety
/// The CPU must support AVX2.
#[target_feature(enable = "avx2")]
pub unsafe fn quantize_row_q8_0(x: &[f32], out: &mut [BlockQ8_0]) {
    let sign = _mm256_set1_ps(-0.0);
    let low_byte = _mm256_set1_epi32(0xff);
    let order = _mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7);
    for (xb, ob) in x.chunks_exact(QK).zip(out.iter_mut()) {
        let xs: &[[f32; 8]; 4] = bytemuck::cast_ref(
            <&[f32; QK]>::try_from(xb).unwrap_or_else(|_| unreachable!("chunks_exact(32)")),
        );
        let v = [load8(&xs[0]), load8(&xs[1]), load8(&xs[2]), load8(&xs[3])];
        let nan = _mm256_or_ps(
            _mm256_or_ps(
                _mm256_cmp_ps::<_CMP_UNORD_Q>(v[0], v[0]),
                _mm256_cmp_ps::<_CMP_UNORD_Q>(v[1], v[1]),
            ),
            _mm256_or_ps(
                _mm256_cmp_ps::<_CMP_UNORD_Q>(v[2], v[2]),
                _mm256_cmp_ps::<_CMP_UNORD_Q>(v[3], v[3]),
            ),
        );
        if _mm256_movemask_ps(nan) != 0 {
            edge_quant::legacy::quantize_q8_0(xb, bytemuck::bytes_of_mut(ob));
            continue;
        }
        let a = v.map(|v| _mm256_andnot_ps(sign, v));
        let m = _mm256_max_ps(_mm256_max_ps(a[0], a[1]), _mm256_max_ps(a[2], a[3]));
        let m = _mm_max_ps(_mm256_castps256_ps128(m), _mm256_extractf128_ps(m, 1));
        let m = _mm_max_ps(m, _mm_movehl_ps(m, m));
        let amax = _mm_cvtss_f32(_mm_max_ss(m, _mm_shuffle_ps(m, m, 1)));
        let d = amax / 127.0;
        let id = if d != 0.0 { 1.0 / d } else { 0.0 };
        ob.d = half::f16::from_f32(d).to_bits().to_le_bytes();
        let idv = _mm256_set1_ps(id);
        let q = v.map(|v| {
            let r = round_half_away(_mm256_mul_ps(v, idv));
            _mm256_and_si256(_mm256_cvttps_epi32(r), low_byte)
        });
        let q = _mm256_packus_epi16(
            _mm256_packus_epi32(q[0], q[1]),
            _mm256_packus_epi32(q[2], q[3]),
        );
        let q = _mm256_permutevar8x32_epi32(q, order);
        // SAFETY: `ob.qs` is 32 writable bytes; `storeu` has no alignment requirement.
        unsafe { _mm256_storeu_si256(ob.qs.as_mut_ptr().cast(), q) };
    }
}

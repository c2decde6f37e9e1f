//! Tiled attention ([`crate::ops::attend_tile`]) with AVX-512F: the row tile of sixteen
//! queries is one register, so scores, softmax and weights run sixteen rows per
//! instruction; scores take eight keys per step and the value accumulation runs four rows
//! × 64 columns per step. The loops are [`crate::cpu::attention_tile_body`]'s; this
//! module gives them their primitives.

use core::arch::x86_64::*;
use half::f16;

attention_tile_kernel! {
    features: "avx512f,avx2,fma,f16c",
    vector: __m512,
    score_keys: 8,
    acc_rows: 4,
    primitives: {
        /// Sixteen f32 from `x`.
        fn load(x: &[f32]) -> V {
            assert!(x.len() >= 16);
            // SAFETY: `x` holds at least 16 f32; `loadu` has no alignment requirement.
            unsafe { _mm512_loadu_ps(x.as_ptr()) }
        }

        /// Sixteen f32 into `x`.
        fn store(x: &mut [f32], v: V) {
            assert!(x.len() >= 16);
            // SAFETY: `x` holds at least 16 f32; `storeu` has no alignment requirement.
            unsafe { _mm512_storeu_ps(x.as_mut_ptr(), v) }
        }

        /// Sixteen f16 from `x`, widened to f32.
        fn load_f16(x: &[f16]) -> V {
            assert!(x.len() >= 16);
            // SAFETY: `x` holds at least 16 f16 (32 readable bytes); `loadu` has no
            // alignment requirement.
            _mm512_cvtph_ps(unsafe { _mm256_loadu_si256(x.as_ptr().cast()) })
        }

        /// `x` in every lane.
        fn splat(x: f32) -> V {
            _mm512_set1_ps(x)
        }

        /// `a + b`.
        fn add(a: V, b: V) -> V {
            _mm512_add_ps(a, b)
        }

        /// `a − b`.
        fn sub(a: V, b: V) -> V {
            _mm512_sub_ps(a, b)
        }

        /// `a · b`.
        fn mul(a: V, b: V) -> V {
            _mm512_mul_ps(a, b)
        }

        /// `a · b + c`, rounded once.
        fn fmadd(a: V, b: V, c: V) -> V {
            _mm512_fmadd_ps(a, b, c)
        }

        /// `a > b ? a : b`.
        fn max(a: V, b: V) -> V {
            _mm512_max_ps(a, b)
        }

        /// `a < b ? a : b`.
        fn min(a: V, b: V) -> V {
            _mm512_min_ps(a, b)
        }

        /// The lanes where `a < b` (ordered).
        fn lt(a: V, b: V) -> __mmask16 {
            _mm512_cmp_ps_mask::<_CMP_LT_OQ>(a, b)
        }

        /// The lanes where `a == b` (ordered).
        fn eq(a: V, b: V) -> __mmask16 {
            _mm512_cmp_ps_mask::<_CMP_EQ_OQ>(a, b)
        }

        /// 0 where `mask` is set, else `v`.
        fn zero_where(mask: __mmask16, v: V) -> V {
            _mm512_maskz_mov_ps(!mask, v)
        }

        /// `y` with `bits(t) − bits(round)` added to its exponent field.
        fn pow2_mul(y: V, t: V, round: V) -> V {
            let k = _mm512_sub_epi32(_mm512_castps_si512(t), _mm512_castps_si512(round));
            _mm512_castsi512_ps(_mm512_add_epi32(
                _mm512_castps_si512(y),
                _mm512_slli_epi32::<23>(k),
            ))
        }
    },
}

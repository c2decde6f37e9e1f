//! Tiled attention ([`crate::ops::attend_tile`]) with AVX2 + FMA + F16C: the row tile of
//! sixteen queries is two registers, so scores, softmax and weights run eight rows per
//! instruction; scores take four keys per step and the value accumulation runs two rows
//! × 32 columns per step. The loops are [`crate::cpu::attention_tile_body`]'s; this
//! module gives them their primitives.

use core::arch::x86_64::*;
use half::f16;

attention_tile_kernel! {
    features: "avx2,fma,f16c",
    vector: __m256,
    score_keys: 4,
    acc_rows: 2,
    primitives: {
        /// Eight f32 from `x`.
        fn load(x: &[f32]) -> V {
            assert!(x.len() >= 8);
            // SAFETY: `x` holds at least 8 f32; `loadu` has no alignment requirement.
            unsafe { _mm256_loadu_ps(x.as_ptr()) }
        }

        /// Eight f32 into `x`.
        fn store(x: &mut [f32], v: V) {
            assert!(x.len() >= 8);
            // SAFETY: `x` holds at least 8 f32; `storeu` has no alignment requirement.
            unsafe { _mm256_storeu_ps(x.as_mut_ptr(), v) }
        }

        /// Eight f16 from `x`, widened to f32.
        fn load_f16(x: &[f16]) -> V {
            assert!(x.len() >= 8);
            // SAFETY: `x` holds at least 8 f16 (16 readable bytes); `loadu` has no
            // alignment requirement.
            _mm256_cvtph_ps(unsafe { _mm_loadu_si128(x.as_ptr().cast()) })
        }

        /// `x` in every lane.
        fn splat(x: f32) -> V {
            _mm256_set1_ps(x)
        }

        /// `a + b`.
        fn add(a: V, b: V) -> V {
            _mm256_add_ps(a, b)
        }

        /// `a − b`.
        fn sub(a: V, b: V) -> V {
            _mm256_sub_ps(a, b)
        }

        /// `a · b`.
        fn mul(a: V, b: V) -> V {
            _mm256_mul_ps(a, b)
        }

        /// `a · b + c`, rounded once.
        fn fmadd(a: V, b: V, c: V) -> V {
            _mm256_fmadd_ps(a, b, c)
        }

        /// `a > b ? a : b`.
        fn max(a: V, b: V) -> V {
            _mm256_max_ps(a, b)
        }

        /// `a < b ? a : b`.
        fn min(a: V, b: V) -> V {
            _mm256_min_ps(a, b)
        }

        /// All ones where `a < b` (ordered).
        fn lt(a: V, b: V) -> V {
            _mm256_cmp_ps::<_CMP_LT_OQ>(a, b)
        }

        /// All ones where `a == b` (ordered).
        fn eq(a: V, b: V) -> V {
            _mm256_cmp_ps::<_CMP_EQ_OQ>(a, b)
        }

        /// 0 where `mask` is set, else `v`.
        fn zero_where(mask: V, v: V) -> V {
            _mm256_andnot_ps(mask, v)
        }

        /// `y` with `bits(t) − bits(round)` added to its exponent field.
        fn pow2_mul(y: V, t: V, round: V) -> V {
            let k = _mm256_sub_epi32(_mm256_castps_si256(t), _mm256_castps_si256(round));
            _mm256_castsi256_ps(_mm256_add_epi32(
                _mm256_castps_si256(y),
                _mm256_slli_epi32::<23>(k),
            ))
        }
    },
}

//! Tiled attention ([`crate::ops::attend_tile`]) with NEON: the row tile of sixteen
//! queries is four registers, so scores, softmax and weights run four rows per
//! instruction; scores take four keys per step and the value accumulation runs four rows
//! × 16 columns per step. Keys and values are widened from f16 one element at a time
//! (the f16 vector types are not stable Rust). The loops are
//! [`crate::cpu::attention_tile_body`]'s; this module gives them their primitives.

use core::arch::aarch64::*;
use half::f16;

attention_tile_kernel! {
    features: "neon",
    vector: float32x4_t,
    score_keys: 4,
    acc_rows: 4,
    primitives: {
        /// Four f32 from `x`.
        fn load(x: &[f32]) -> V {
            assert!(x.len() >= 4);
            // SAFETY: `x` holds at least 4 f32; `vld1q_f32` has no alignment requirement
            // beyond an f32's.
            unsafe { vld1q_f32(x.as_ptr()) }
        }

        /// Four f32 into `x`.
        fn store(x: &mut [f32], v: V) {
            assert!(x.len() >= 4);
            // SAFETY: `x` holds at least 4 f32; `vst1q_f32` has no alignment requirement
            // beyond an f32's.
            unsafe { vst1q_f32(x.as_mut_ptr(), v) }
        }

        /// Four f16 from `x`, widened to f32 one at a time.
        fn load_f16(x: &[f16]) -> V {
            let x = &x[..4];
            load(&[x[0].to_f32(), x[1].to_f32(), x[2].to_f32(), x[3].to_f32()])
        }

        /// `x` in every lane.
        fn splat(x: f32) -> V {
            vdupq_n_f32(x)
        }

        /// `a + b`.
        fn add(a: V, b: V) -> V {
            vaddq_f32(a, b)
        }

        /// `a − b`.
        fn sub(a: V, b: V) -> V {
            vsubq_f32(a, b)
        }

        /// `a · b`.
        fn mul(a: V, b: V) -> V {
            vmulq_f32(a, b)
        }

        /// `a · b + c`, rounded once.
        fn fmadd(a: V, b: V, c: V) -> V {
            vfmaq_f32(c, a, b)
        }

        /// `a > b ? a : b`, as the scalar twin (and x86) compute it.
        fn max(a: V, b: V) -> V {
            vbslq_f32(vcgtq_f32(a, b), a, b)
        }

        /// `a < b ? a : b`, as the scalar twin (and x86) compute it.
        fn min(a: V, b: V) -> V {
            vbslq_f32(vcltq_f32(a, b), a, b)
        }

        /// All ones where `a < b` (ordered).
        fn lt(a: V, b: V) -> uint32x4_t {
            vcltq_f32(a, b)
        }

        /// All ones where `a == b` (ordered).
        fn eq(a: V, b: V) -> uint32x4_t {
            vceqq_f32(a, b)
        }

        /// 0 where `mask` is set, else `v`.
        fn zero_where(mask: uint32x4_t, v: V) -> V {
            vbslq_f32(mask, vdupq_n_f32(0.0), v)
        }

        /// `y` with `bits(t) − bits(round)` added to its exponent field.
        fn pow2_mul(y: V, t: V, round: V) -> V {
            let k = vsubq_s32(vreinterpretq_s32_f32(t), vreinterpretq_s32_f32(round));
            vreinterpretq_f32_s32(vaddq_s32(vreinterpretq_s32_f32(y), vshlq_n_s32::<23>(k)))
        }
    },
}

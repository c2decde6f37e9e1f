//! NEON inner loop of attention over a q8_0 value cache (see
//! [`crate::ops::attention_cached`]), and the NEON tiers' [`AttendParts`]: the f16 loops
//! are the scalar ones (widening f16 needs the `fp16` extension, not part of the tier).

use core::arch::aarch64::*;
use edge_quant::legacy::BlockQ8_0;
use half::f16;

use crate::ops::attention_cached::{self as scalar, AttendParts};

/// The NEON tiers' attention parts.
pub(crate) const PARTS: AttendParts = AttendParts {
    mad_q8_0,
    ..scalar::SCALAR_PARTS
};

/// `acc[i] += (d·q[i])·w` over the blocks of `v`, four lanes at a time: each value
/// dequantized to f32, then one fused multiply-add into the accumulator.
#[inline]
#[target_feature(enable = "neon")]
pub(crate) fn mad_q8_0(acc: &mut [f32], v: &[BlockQ8_0], w: f32) {
    for (acc, b) in acc.chunks_exact_mut(32).zip(v) {
        let d = f16::from_le_bytes(b.d).to_f32();
        for (a, q) in acc.chunks_exact_mut(8).zip(b.qs.chunks_exact(8)) {
            // SAFETY: `q` is a chunk of exactly 8 bytes and `a` of exactly 8 f32;
            // `vld1`/`vst1` have no alignment requirement beyond the element's.
            unsafe {
                let q16 = vmovl_s8(vld1_s8(q.as_ptr()));
                let lo = vmulq_n_f32(vcvtq_f32_s32(vmovl_s16(vget_low_s16(q16))), d);
                let hi = vmulq_n_f32(vcvtq_f32_s32(vmovl_high_s16(q16)), d);
                let p = a.as_mut_ptr();
                vst1q_f32(p, vfmaq_n_f32(vld1q_f32(p), lo, w));
                vst1q_f32(p.add(4), vfmaq_n_f32(vld1q_f32(p.add(4)), hi, w));
            }
        }
    }
}

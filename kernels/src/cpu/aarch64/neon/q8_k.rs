//! NEON Q8_K activation quantizer, bit-exact with edge-quant's reference
//! ([`crate::cpu::scalar::quantize_row_q8_k`]).

use core::arch::aarch64::*;
use edge_quant::k_quants::BlockQ8K;

/// Loads 4 f32.
#[inline]
#[target_feature(enable = "neon")]
fn load4(x: &[f32; 4]) -> float32x4_t {
    // SAFETY: `x` is 4 readable f32.
    unsafe { vld1q_f32(x.as_ptr()) }
}

/// Quantizes `x` (`out.len() * 256` elements) to Q8_K with the reference's operations in
/// lanes (see the AVX2 version); blocks holding a NaN or an infinity, or whose `iscale`
/// overflows, go to the reference itself.
///
/// # Safety
/// The CPU must support NEON.
#[target_feature(enable = "neon")]
pub unsafe fn quantize_row_q8_k(x: &[f32], out: &mut [BlockQ8K]) {
    let magic = vdupq_n_f32(12_582_912.0);
    let mant = vdupq_n_u32(0x007f_ffff);
    let half = vdupq_n_s32(0x0040_0000);
    let k127 = vdupq_n_s32(127);
    for (xb, ob) in x.chunks_exact(256).zip(out.iter_mut()) {
        let xb: &[f32; 256] = xb
            .try_into()
            .unwrap_or_else(|_| unreachable!("chunks_exact(256)"));
        let xs: &[[f32; 4]; 64] = bytemuck::cast_ref(xb);
        // `vmaxq_f32` propagates NaNs, so a NaN or an infinity shows in `amax`.
        let mut amax = vdupq_n_f32(0.0);
        for v in xs {
            amax = vmaxq_f32(amax, vabsq_f32(load4(v)));
        }
        let amax = vmaxvq_f32(amax);
        if !amax.is_finite() {
            *ob = BlockQ8K::quantize(xb);
            continue;
        }
        if amax == 0.0 {
            *ob = bytemuck::Zeroable::zeroed();
            continue;
        }
        // The first element of the largest magnitude, as the reference's strict `>`.
        let max = xb.iter().copied().find(|v| v.abs() == amax).unwrap_or(amax);
        let iscale = -127.0 / max;
        if !iscale.is_finite() {
            *ob = BlockQ8K::quantize(xb);
            continue;
        }
        let qv: &mut [[u8; 16]; 16] = bytemuck::cast_mut(&mut ob.qs);
        for ((q, v), s) in qv.iter_mut().zip(xs.chunks_exact(4)).zip(&mut ob.bsums) {
            let i: [int16x4_t; 4] = std::array::from_fn(|k| {
                let f = vaddq_f32(vmulq_n_f32(load4(&v[k]), iscale), magic);
                let i = vandq_u32(vreinterpretq_u32_f32(f), mant);
                // Every quant is now in -127..=127, so the narrowing keeps its value.
                vmovn_s32(vminq_s32(vsubq_s32(vreinterpretq_s32_u32(i), half), k127))
            });
            let b = vcombine_s8(
                vmovn_s16(vcombine_s16(i[0], i[1])),
                vmovn_s16(vcombine_s16(i[2], i[3])),
            );
            // SAFETY: `q` is 16 writable bytes.
            unsafe { vst1q_s8(q.as_mut_ptr().cast(), b) };
            *s = vaddlvq_s8(b).to_le_bytes();
        }
        ob.d = (1.0 / iscale).to_le_bytes();
    }
}

//! Q6_K: 6-bit weights with a signed 8-bit scale per 16 weights (6.5625 bits/weight).

use super::search::{make_qx_quants, nearest_int, GROUP_MAX_EPS};
use super::{dequantize_blocks, f16_to_f32, f32_to_f16, quantize_blocks, QK_K};

/// One Q6_K super-block: 256 weights in 16 sub-blocks of 16, 210 bytes.
///
/// Weight `i` of sub-block `s` is `d·scales[s]·(q - 32)` with `q` in `0..=63`: four low
/// bits from `ql`, two high bits from `qh`. With `h` < 2 the 128-element half, `k` < 4
/// and `l` < 32, element `128·h + 32·k + l` has
/// - low bits: `ql[64·h + 32·(k % 2) + l]`, low nibble for `k < 2`, high nibble otherwise;
/// - high bits: bits `2k..2k+2` of `qh[32·h + l]`.
///
/// | offset | field    | content |
/// |-------:|----------|---------|
/// | 0      | `ql`     | low 4 bits of the quants |
/// | 128    | `qh`     | high 2 bits of the quants |
/// | 192    | `scales` | one i8 scale per sub-block |
/// | 208    | `d`      | f16 LE, super-block scale |
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq, Eq, bytemuck::Pod, bytemuck::Zeroable)]
pub struct BlockQ6K {
    /// Low four bits of every quant, two per byte.
    pub ql: [u8; QK_K / 2],
    /// High two bits of every quant, four per byte.
    pub qh: [u8; QK_K / 4],
    /// Per-sub-block scales, two's-complement i8 (see [`BlockQ6K::scale`]).
    pub scales: [u8; QK_K / 16],
    /// Super-block scale, f16 little-endian.
    pub d: [u8; 2],
}

const _: () = assert!(std::mem::size_of::<BlockQ6K>() == 210);
const _: () = assert!(std::mem::align_of::<BlockQ6K>() == 1);

impl BlockQ6K {
    /// The super-block scale `d` as f32.
    pub fn d(&self) -> f32 {
        f16_to_f32(self.d)
    }

    /// The signed scale of sub-block `j` (0..16).
    pub fn scale(&self, j: usize) -> i8 {
        self.scales[j & 15] as i8
    }

    /// Decodes the 256 weights of this block.
    pub fn dequantize(&self, out: &mut [f32; QK_K]) {
        let d = self.d();
        for (e, y) in out.iter_mut().enumerate() {
            let (h, k, l) = (e / 128, (e / 32) % 4, e % 32);
            let low = (self.ql[64 * h + 32 * (k % 2) + l] >> (4 * (k / 2))) & 0xF;
            let high = (self.qh[32 * h + l] >> (2 * k)) & 3;
            let q = (low | (high << 4)) as i8 - 32;
            // (d · scale) · q, in that order, as ggml does.
            *y = d * f32::from(self.scale(e / 16)) * f32::from(q);
        }
    }

    /// Quantizes 256 weights with ggml's reference Q6_K algorithm.
    pub fn quantize(x: &[f32; QK_K]) -> Self {
        let xs: &[[f32; 16]; 16] = bytemuck::cast_ref(x);
        let mut levels = [[0u8; 16]; 16];
        let mut scales = [0.0f32; 16];
        let mut max_scale = 0.0f32;
        let mut max_abs_scale = 0.0f32;
        for (j, sub) in xs.iter().enumerate() {
            scales[j] = make_qx_quants(sub, 32, &mut levels[j]);
            let a = scales[j].abs();
            if a > max_abs_scale {
                max_abs_scale = a;
                max_scale = scales[j];
            }
        }

        let mut block: BlockQ6K = bytemuck::Zeroable::zeroed();
        if max_abs_scale < GROUP_MAX_EPS {
            // All-zero block: everything, quants included, is zero (ggml clears it).
            return block;
        }
        // The largest-magnitude scale maps to -128, the end of the i8 range with the most
        // room.
        let iscale = -128.0 / max_scale;
        block.d = f32_to_f16(1.0 / iscale);
        for (s, &scale) in block.scales.iter_mut().zip(&scales) {
            *s = nearest_int(iscale * scale).min(127) as i8 as u8;
        }

        // Re-round every weight against the scales as they will actually be decoded.
        let d_all = block.d();
        for (j, (sub, lv)) in xs.iter().zip(&mut levels).enumerate() {
            let d = d_all * f32::from(block.scale(j));
            if d == 0.0 {
                continue;
            }
            for (q, &v) in lv.iter_mut().zip(sub) {
                *q = (nearest_int(v / d).clamp(-32, 31) + 32) as u8;
            }
        }

        let flat: &[u8; QK_K] = bytemuck::cast_ref(&levels);
        for h in 0..2 {
            for l in 0..32 {
                let e = 128 * h + l;
                let (q1, q2, q3, q4) = (flat[e], flat[e + 32], flat[e + 64], flat[e + 96]);
                block.ql[64 * h + l] = (q1 & 0xF) | ((q3 & 0xF) << 4);
                block.ql[64 * h + l + 32] = (q2 & 0xF) | ((q4 & 0xF) << 4);
                block.qh[32 * h + l] =
                    (q1 >> 4) | ((q2 >> 4) << 2) | ((q3 >> 4) << 4) | ((q4 >> 4) << 6);
            }
        }
        block
    }
}

/// Decodes Q6_K blocks from `src` into `dst` (256 floats per 210-byte block).
pub fn dequantize_q6_k(src: &[u8], dst: &mut [f32]) {
    dequantize_blocks(src, dst, BlockQ6K::dequantize);
}

/// Encodes `src` (256 floats per block) as Q6_K into `dst` with ggml's reference
/// quantizer (`quantize_row_q6_K_ref`).
pub fn quantize_q6_k(src: &[f32], dst: &mut [u8]) {
    quantize_blocks(src, dst, BlockQ6K::quantize);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::k_quants::test_util::*;

    #[test]
    fn size_pinned() {
        assert_eq!(std::mem::size_of::<BlockQ6K>(), 210);
    }

    #[test]
    fn dequantize_by_hand() {
        let mut b: BlockQ6K = bytemuck::Zeroable::zeroed();
        b.d = [0x00, 0x38]; // 0.5
        b.scales[0] = 4;
        b.scales[13] = (-6i8) as u8;
        // Element 5 (h 0, k 0, l 5): low nibble of ql[5] = 0x9, qh[5] bits 0..2 = 2
        //   -> q = 32 + 9 - 32 = 9 -> 0.5 * 4 * 9 = 18.
        b.ql[5] = 0x09;
        b.qh[5] = 0b10;
        // Element 210 (h 1, k 2, l 18, sub-block 13): high nibble of ql[64 + 18] = 0x3,
        // qh[32 + 18] bits 4..6 = 0 -> q = 3 - 32 = -29 -> 0.5 * -6 * -29 = 87.
        b.ql[82] = 0x30;
        let mut y = [0.0f32; QK_K];
        b.dequantize(&mut y);
        assert_eq!(y[5], 18.0);
        assert_eq!(y[210], 87.0);
        assert_eq!(y[6], 0.5 * 4.0 * -32.0); // all bits zero -> q = -32
                                             // Element 146 reads the other nibble of ql[82] but sub-block 9 has scale 0.
        assert_eq!(y[146], 0.0);
    }

    #[test]
    fn round_trip_gaussian() {
        let r = rel_rmse_gaussian(quantize_q6_k, dequantize_q6_k, 210, 64);
        // llama.cpp's reference: 0.0177 on N(0, 1) rows (64 x 4096, measured).
        assert!(r < 0.02, "Q6_K relative RMSE {r}");
    }

    #[test]
    fn degenerate_inputs_stay_finite() {
        check_degenerate_inputs(quantize_q6_k, dequantize_q6_k, 210);
    }
}

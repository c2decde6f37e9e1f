//! Q3_K: 3-bit weights with a signed 6-bit scale per 16 weights (3.4375 bits/weight).

use super::search::{make_q3_quants, nearest_int};
use super::{dequantize_blocks, f16_to_f32, f32_to_f16, quantize_blocks, K_SCALE_SIZE, QK_K};

/// One Q3_K super-block: 256 weights in 16 sub-blocks of 16, 110 bytes.
///
/// Weight `i` of sub-block `s` is `d·(scale[s] - 32)·(q - 4)` where `q` in `0..=7` is two
/// low bits from `qs` plus a high bit from `hmask`.
///
/// | offset | field    | content |
/// |-------:|----------|---------|
/// | 0      | `hmask`  | high bit of element `e` is bit `e / 32` of `hmask[e % 32]` |
/// | 32     | `qs`     | low 2 bits: element `128·h + 32·k + l` is bits `2k..2k+2` of `qs[32·h + l]` |
/// | 96     | `scales` | sixteen 6-bit scales, see [`BlockQ3K::scale`] |
/// | 108    | `d`      | f16 LE, super-block scale |
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq, Eq, bytemuck::Pod, bytemuck::Zeroable)]
pub struct BlockQ3K {
    /// High bit of every quant.
    pub hmask: [u8; QK_K / 8],
    /// Low two bits of every quant, four per byte.
    pub qs: [u8; QK_K / 4],
    /// Packed 6-bit scales (stored with an offset of 32).
    pub scales: [u8; K_SCALE_SIZE],
    /// Super-block scale, f16 little-endian.
    pub d: [u8; 2],
}

const _: () = assert!(std::mem::size_of::<BlockQ3K>() == 110);
const _: () = assert!(std::mem::align_of::<BlockQ3K>() == 1);

impl BlockQ3K {
    /// The super-block scale `d` as f32.
    pub fn d(&self) -> f32 {
        f16_to_f32(self.d)
    }

    /// The signed scale of sub-block `j` (0..16), in `-32..=31`.
    ///
    /// Its low 4 bits are the low nibble of `scales[j]` for `j < 8`, the high nibble of
    /// `scales[j - 8]` otherwise; its top 2 bits are bits `2·(j / 4)..` of
    /// `scales[8 + j % 4]`.
    pub fn scale(&self, j: usize) -> i8 {
        let j = j & 15;
        let low = if j < 8 {
            self.scales[j] & 0xF
        } else {
            self.scales[j - 8] >> 4
        };
        let high = (self.scales[8 + j % 4] >> (2 * (j / 4))) & 3;
        (low | (high << 4)) as i8 - 32
    }

    /// Decodes the 256 weights of this block.
    pub fn dequantize(&self, out: &mut [f32; QK_K]) {
        let d = self.d();
        let dl: [f32; 16] = std::array::from_fn(|j| d * f32::from(self.scale(j)));
        for (e, y) in out.iter_mut().enumerate() {
            let (h, k, l) = (e / 128, (e / 32) % 4, e % 32);
            let low = ((self.qs[32 * h + l] >> (2 * k)) & 3) as i8;
            // A set high bit means "no offset": levels are stored + 4.
            let high_set = self.hmask[l] & (1 << (e / 32)) != 0;
            let q = if high_set { low } else { low - 4 };
            *y = dl[e / 16] * f32::from(q);
        }
    }

    /// Quantizes 256 weights with ggml's reference Q3_K algorithm.
    pub fn quantize(x: &[f32; QK_K]) -> Self {
        let xs: &[[f32; 16]; 16] = bytemuck::cast_ref(x);
        let mut levels = [[0u8; 16]; 16];
        let mut scales = [0.0f32; 16];
        let mut max_scale = 0.0f32;
        let mut amax = 0.0f32;
        for (j, sub) in xs.iter().enumerate() {
            scales[j] = make_q3_quants(sub, 4, &mut levels[j]);
            let a = scales[j].abs();
            if a > amax {
                amax = a;
                max_scale = scales[j];
            }
        }

        let mut block: BlockQ3K = bytemuck::Zeroable::zeroed();
        if max_scale != 0.0 {
            // The largest-magnitude scale maps to -32, the end of the 6-bit range with
            // the most room.
            let iscale = -32.0 / max_scale;
            for (j, &scale) in scales.iter().enumerate() {
                // Truncation to i8 before clamping, as ggml stores into an int8_t.
                let l = ((nearest_int(iscale * scale) as i8).clamp(-32, 31) + 32) as u8;
                if j < 8 {
                    block.scales[j] = l & 0xF;
                } else {
                    block.scales[j - 8] |= (l & 0xF) << 4;
                }
                block.scales[8 + j % 4] |= (l >> 4) << (2 * (j / 4));
            }
            block.d = f32_to_f16(1.0 / iscale);
        }

        // Re-round every weight against the scales as they will actually be decoded.
        let d_all = block.d();
        for (j, (sub, lv)) in xs.iter().zip(&mut levels).enumerate() {
            let d = d_all * f32::from(block.scale(j));
            if d == 0.0 {
                continue;
            }
            for (q, &v) in lv.iter_mut().zip(sub) {
                *q = (nearest_int(v / d).clamp(-4, 3) + 4) as u8;
            }
        }

        let flat: &mut [u8; QK_K] = bytemuck::cast_mut(&mut levels);
        for (e, q) in flat.iter_mut().enumerate() {
            if *q > 3 {
                block.hmask[e % 32] |= 1 << (e / 32);
                *q -= 4;
            }
        }
        for h in 0..2 {
            for l in 0..32 {
                let e = 128 * h + l;
                block.qs[32 * h + l] =
                    flat[e] | (flat[e + 32] << 2) | (flat[e + 64] << 4) | (flat[e + 96] << 6);
            }
        }
        block
    }
}

/// Decodes Q3_K blocks from `src` into `dst` (256 floats per 110-byte block).
pub fn dequantize_q3_k(src: &[u8], dst: &mut [f32]) {
    dequantize_blocks(src, dst, BlockQ3K::dequantize);
}

/// Encodes `src` (256 floats per block) as Q3_K into `dst` with ggml's reference
/// quantizer (`quantize_row_q3_K_ref`).
pub fn quantize_q3_k(src: &[f32], dst: &mut [u8]) {
    quantize_blocks(src, dst, BlockQ3K::quantize);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::k_quants::test_util::*;

    #[test]
    fn size_pinned() {
        assert_eq!(std::mem::size_of::<BlockQ3K>(), 110);
    }

    #[test]
    fn scale_unpacking_by_hand() {
        let mut b: BlockQ3K = bytemuck::Zeroable::zeroed();
        // Sub-block 1: low nibble of scales[1] = 5, top bits from scales[9] bits 0..2 = 2
        //   -> 2*16 + 5 - 32 = 5.
        // Sub-block 13: high nibble of scales[5] = 0xC, top bits from scales[9] bits 6..8
        //   = 3 -> 48 + 12 - 32 = 28.
        // Sub-block 6: low nibble of scales[6] = 0, top bits scales[10] bits 2..4 = 0 -> -32.
        b.scales[1] = 0xC5;
        b.scales[5] = 0xC0;
        b.scales[9] = 0b11_00_00_10;
        assert_eq!(b.scale(1), 5);
        assert_eq!(b.scale(13), 28);
        assert_eq!(b.scale(6), -32);
        assert_eq!(b.scale(5), -32); // low nibble of scales[5] is 0, top bits 0
    }

    #[test]
    fn dequantize_by_hand() {
        let mut b: BlockQ3K = bytemuck::Zeroable::zeroed();
        b.d = [0x00, 0x38]; // 0.5
                            // Sub-block 0 scale: low 4 bits 2 in scales[0], top bits 2 (bits 0..2 of
                            // scales[8]) -> 34 - 32 = 2, so dl = 1.0.
        b.scales[0] = 0x02;
        b.scales[8] = 0x02;
        // Element 3: qs[3] bits 0..2 = 3, hmask[3] bit 0 set -> q = 3 -> 3.0.
        b.qs[3] = 0b11;
        b.hmask[3] = 0b1;
        // Element 4: low bits 1, high bit clear -> q = 1 - 4 = -3 -> -3.0.
        b.qs[4] = 0b01;
        let mut y = [0.0f32; QK_K];
        b.dequantize(&mut y);
        assert_eq!(y[3], 3.0);
        assert_eq!(y[4], -3.0);
        assert_eq!(y[0], -4.0); // all bits clear -> q = -4
                                // Sub-block 2 (elements 32..48) has scale -32 -> dl = -16; element 32 is
                                // k = 1, l = 0: qs[0] bits 2..4 = 0, hmask[0] bit 1 = 0 -> q = -4 -> 64.
        assert_eq!(y[32], 64.0);
    }

    #[test]
    fn round_trip_gaussian() {
        let r = rel_rmse_gaussian(quantize_q3_k, dequantize_q3_k, 110, 64);
        // llama.cpp's reference: 0.151 on N(0, 1) rows (64 x 4096, measured).
        assert!(r < 0.17, "Q3_K relative RMSE {r}");
    }

    #[test]
    fn degenerate_inputs_stay_finite() {
        check_degenerate_inputs(quantize_q3_k, dequantize_q3_k, 110);
    }
}

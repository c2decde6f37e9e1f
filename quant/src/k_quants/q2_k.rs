//! Q2_K: 2-bit weights with a 4-bit scale and 4-bit min per 16 weights (2.625 bits/weight).

use super::search::{make_qkx2_quants, nearest_int, Qkx2Params};
use super::{dequantize_blocks, f16_to_f32, f32_to_f16, quantize_blocks, QK_K};

/// One Q2_K super-block: 256 weights in 16 sub-blocks of 16, 84 bytes.
///
/// Weight `i` of sub-block `s` is `d·(scales[s] & 0xF)·q - dmin·(scales[s] >> 4)` with
/// `q` in `0..=3`.
///
/// | offset | field    | content |
/// |-------:|----------|---------|
/// | 0      | `scales` | per sub-block: scale in the low nibble, min in the high nibble |
/// | 16     | `qs`     | 2-bit quants: element `128·h + 32·k + l` (`h` < 2, `k` < 4, `l` < 32) is bits `2k..2k+2` of `qs[32·h + l]` |
/// | 80     | `d`      | f16 LE, super-block scale of the scales |
/// | 82     | `dmin`   | f16 LE, super-block scale of the mins |
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq, Eq, bytemuck::Pod, bytemuck::Zeroable)]
pub struct BlockQ2K {
    /// Packed 4-bit scale (low nibble) and 4-bit min (high nibble) per sub-block.
    pub scales: [u8; QK_K / 16],
    /// Packed 2-bit quants, four per byte.
    pub qs: [u8; QK_K / 4],
    /// Super-block scale for the scales, f16 little-endian.
    pub d: [u8; 2],
    /// Super-block scale for the mins, f16 little-endian.
    pub dmin: [u8; 2],
}

const _: () = assert!(std::mem::size_of::<BlockQ2K>() == 84);
const _: () = assert!(std::mem::align_of::<BlockQ2K>() == 1);

impl BlockQ2K {
    /// The super-block scale `d` as f32.
    pub fn d(&self) -> f32 {
        f16_to_f32(self.d)
    }

    /// The super-block min scale `dmin` as f32.
    pub fn dmin(&self) -> f32 {
        f16_to_f32(self.dmin)
    }

    /// Decodes the 256 weights of this block.
    pub fn dequantize(&self, out: &mut [f32; QK_K]) {
        let d = self.d();
        let dmin = self.dmin();
        for (e, y) in out.iter_mut().enumerate() {
            let sc = self.scales[e / 16];
            let dl = d * f32::from(sc & 0xF);
            let ml = dmin * f32::from(sc >> 4);
            let (h, k, l) = (e / 128, (e / 32) % 4, e % 32);
            let q = (self.qs[32 * h + l] >> (2 * k)) & 3;
            *y = dl * f32::from(q) - ml;
        }
    }

    /// Quantizes 256 weights with ggml's reference Q2_K algorithm.
    pub fn quantize(x: &[f32; QK_K]) -> Self {
        // Sub-block fit: absolute-error weighted by |x|, a coarse 16-step sweep.
        const FIT: Qkx2Params = Qkx2Params {
            nmax: 3,
            rmin: -0.5,
            rdelta: 0.1,
            nstep: 15,
            use_mad: true,
        };
        // Scales and mins are stored with 4 bits each.
        const Q4SCALE: f32 = 15.0;

        let xs: &[[f32; 16]; 16] = bytemuck::cast_ref(x);
        let mut levels = [[0u8; 16]; 16];
        let mut scales = [0.0f32; 16];
        let mut mins = [0.0f32; 16];
        let mut max_scale = 0.0f32;
        let mut max_min = 0.0f32;
        for (j, sub) in xs.iter().enumerate() {
            let weights = sub.map(f32::abs);
            (scales[j], mins[j]) = make_qkx2_quants(sub, &weights, FIT, &mut levels[j]);
            if scales[j] > max_scale {
                max_scale = scales[j];
            }
            if mins[j] > max_min {
                max_min = mins[j];
            }
        }

        let mut block = BlockQ2K::zeroed_block();
        if max_scale > 0.0 {
            let iscale = Q4SCALE / max_scale;
            for (s, &scale) in block.scales.iter_mut().zip(&scales) {
                // Truncating cast as in ggml; the value is in 0..=15 for finite input.
                *s = nearest_int(iscale * scale) as u8;
            }
            block.d = f32_to_f16(max_scale / Q4SCALE);
        }
        if max_min > 0.0 {
            let iscale = Q4SCALE / max_min;
            for (s, &min) in block.scales.iter_mut().zip(&mins) {
                *s |= (nearest_int(iscale * min) << 4) as u8;
            }
            block.dmin = f32_to_f16(max_min / Q4SCALE);
        }

        // Re-round every weight against the scales as they will actually be decoded.
        let d_all = block.d();
        let dmin_all = block.dmin();
        for ((sub, lv), &sc) in xs.iter().zip(&mut levels).zip(&block.scales) {
            let d = d_all * f32::from(sc & 0xF);
            if d == 0.0 {
                continue;
            }
            let dm = dmin_all * f32::from(sc >> 4);
            for (q, &v) in lv.iter_mut().zip(sub) {
                *q = nearest_int((v + dm) / d).clamp(0, 3) as u8;
            }
        }

        let flat: &[u8; QK_K] = bytemuck::cast_ref(&levels);
        for h in 0..2 {
            for l in 0..32 {
                let e = 128 * h + l;
                block.qs[32 * h + l] =
                    flat[e] | (flat[e + 32] << 2) | (flat[e + 64] << 4) | (flat[e + 96] << 6);
            }
        }
        block
    }

    fn zeroed_block() -> Self {
        bytemuck::Zeroable::zeroed()
    }
}

/// Decodes Q2_K blocks from `src` into `dst` (256 floats per 84-byte block).
pub fn dequantize_q2_k(src: &[u8], dst: &mut [f32]) {
    dequantize_blocks(src, dst, BlockQ2K::dequantize);
}

/// Encodes `src` (256 floats per block) as Q2_K into `dst` with ggml's reference
/// quantizer (`quantize_row_q2_K_ref`).
pub fn quantize_q2_k(src: &[f32], dst: &mut [u8]) {
    quantize_blocks(src, dst, BlockQ2K::quantize);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::k_quants::test_util::*;

    #[test]
    fn size_pinned() {
        assert_eq!(std::mem::size_of::<BlockQ2K>(), 84);
    }

    #[test]
    fn dequantize_by_hand() {
        let mut b: BlockQ2K = bytemuck::Zeroable::zeroed();
        b.d = [0x00, 0x40]; // 2.0
        b.dmin = [0x00, 0x3C]; // 1.0
        b.scales[0] = 0x13; // scale 3, min 1 -> dl = 6, ml = 1
        b.scales[5] = 0x52; // scale 2, min 5 -> dl = 4, ml = 5
        b.scales[9] = 0xF0; // scale 0, min 15 -> dl = 0, ml = 15

        // Element 0: qs[0] bits 0..2. Element 33: k = 1, l = 1 -> qs[1] bits 2..4.
        // Element 80 (sub-block 5): k = 2, l = 16 -> qs[16] bits 4..6.
        // Element 150 (sub-block 9): h = 1, k = 0, l = 22 -> qs[54] bits 0..2.
        b.qs[0] = 0b11;
        b.qs[1] = 0b10 << 2;
        b.qs[16] = 0b01 << 4;
        b.qs[54] = 0b11;
        let mut y = [0.0f32; QK_K];
        b.dequantize(&mut y);
        assert_eq!(y[0], 6.0 * 3.0 - 1.0);
        assert_eq!(y[1], -1.0); // q = 0 in sub-block 0
        assert_eq!(y[33], 0.0); // sub-block 2 has scale byte 0
        assert_eq!(y[80], 4.0 * 1.0 - 5.0);
        assert_eq!(y[150], -15.0);
        assert_eq!(y[16], 0.0); // sub-block 1: scale byte 0
    }

    #[test]
    fn round_trip_gaussian() {
        let r = rel_rmse_gaussian(quantize_q2_k, dequantize_q2_k, 84, 64);
        // llama.cpp's reference: 0.296 on N(0, 1) rows (64 x 4096, measured).
        assert!(r < 0.32, "Q2_K relative RMSE {r}");
    }

    #[test]
    fn degenerate_inputs_stay_finite() {
        check_degenerate_inputs(quantize_q2_k, dequantize_q2_k, 84);
    }
}

//! Q5_K: 5-bit weights with a 6-bit scale and 6-bit min per 32 weights (5.5 bits/weight).

use super::q4_k::{fit_sub_blocks, quantize_scales, requantize};
use super::search::Qkx2Params;
use super::{dequantize_blocks, f16_to_f32, get_scale_min_k4, quantize_blocks, K_SCALE_SIZE, QK_K};

/// One Q5_K super-block: 256 weights in 8 sub-blocks of 32, 176 bytes.
///
/// Weight `i` of sub-block `s` is `d·sc[s]·q - dmin·m[s]` with `q` in `0..=31`: four low
/// bits from `qs` (laid out as in Q4_K) and a fifth bit from `qh`. Scales and mins are
/// packed as in Q4_K (see [`BlockQ5K::scale_min`]).
///
/// | offset | field    | content |
/// |-------:|----------|---------|
/// | 0      | `d`      | f16 LE, super-block scale of the scales |
/// | 2      | `dmin`   | f16 LE, super-block scale of the mins |
/// | 4      | `scales` | eight 6-bit scales and eight 6-bit mins |
/// | 16     | `qh`     | fifth bit: element `32·s + l` is bit `s` of `qh[l]` |
/// | 48     | `qs`     | low 4 bits: element `64·c + l` low nibble of `qs[32·c + l]`, element `64·c + 32 + l` high nibble |
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq, Eq, bytemuck::Pod, bytemuck::Zeroable)]
pub struct BlockQ5K {
    /// Super-block scale for the scales, f16 little-endian.
    pub d: [u8; 2],
    /// Super-block scale for the mins, f16 little-endian.
    pub dmin: [u8; 2],
    /// Packed 6-bit scales and mins.
    pub scales: [u8; K_SCALE_SIZE],
    /// Fifth (high) bit of every quant.
    pub qh: [u8; QK_K / 8],
    /// Low four bits of every quant, two per byte.
    pub qs: [u8; QK_K / 2],
}

const _: () = assert!(std::mem::size_of::<BlockQ5K>() == 176);
const _: () = assert!(std::mem::align_of::<BlockQ5K>() == 1);

impl BlockQ5K {
    /// The super-block scale `d` as f32.
    pub fn d(&self) -> f32 {
        f16_to_f32(self.d)
    }

    /// The super-block min scale `dmin` as f32.
    pub fn dmin(&self) -> f32 {
        f16_to_f32(self.dmin)
    }

    /// The 6-bit `(scale, min)` of sub-block `j` (0..8), packed as in
    /// [`BlockQ4K::scale_min`](super::BlockQ4K::scale_min).
    pub fn scale_min(&self, j: usize) -> (u8, u8) {
        get_scale_min_k4(j, &self.scales)
    }

    /// Decodes the 256 weights of this block.
    pub fn dequantize(&self, out: &mut [f32; QK_K]) {
        let d = self.d();
        let dmin = self.dmin();
        for (j, sub) in out.chunks_exact_mut(32).enumerate() {
            let (sc, m) = self.scale_min(j);
            let dl = d * f32::from(sc);
            let ml = dmin * f32::from(m);
            let (c, shift) = (j / 2, 4 * (j % 2));
            let low = &self.qs[32 * c..32 * c + 32];
            for ((y, &ql), &qh) in sub.iter_mut().zip(low).zip(&self.qh) {
                let q = ((ql >> shift) & 0xF) | (((qh >> j) & 1) << 4);
                *y = dl * f32::from(q) - ml;
            }
        }
    }

    /// Quantizes 256 weights with ggml's reference Q5_K algorithm.
    pub fn quantize(x: &[f32; QK_K]) -> Self {
        const FIT: Qkx2Params = Qkx2Params {
            nmax: 31,
            rmin: -0.5,
            rdelta: 0.1,
            nstep: 15,
            use_mad: false,
        };
        let xs: &[[f32; 32]; 8] = bytemuck::cast_ref(x);
        let mut levels = [[0u8; 32]; 8];
        let (scales, mins) = fit_sub_blocks(xs, FIT, &mut levels);
        let (packed, d, dmin) = quantize_scales(&scales, &mins);
        let mut block = BlockQ5K {
            d,
            dmin,
            scales: packed,
            qh: [0; QK_K / 8],
            qs: [0; QK_K / 2],
        };
        requantize(xs, block.d(), block.dmin(), &block.scales, 31, &mut levels);
        for (j, lv) in levels.iter().enumerate() {
            let (c, shift) = (j / 2, 4 * (j % 2));
            for (l, &q) in lv.iter().enumerate() {
                block.qs[32 * c + l] |= (q & 0xF) << shift;
                block.qh[l] |= (q >> 4) << j;
            }
        }
        block
    }
}

/// Decodes Q5_K blocks from `src` into `dst` (256 floats per 176-byte block).
pub fn dequantize_q5_k(src: &[u8], dst: &mut [f32]) {
    dequantize_blocks(src, dst, BlockQ5K::dequantize);
}

/// Encodes `src` (256 floats per block) as Q5_K into `dst` with ggml's reference
/// quantizer (`quantize_row_q5_K_ref`).
pub fn quantize_q5_k(src: &[f32], dst: &mut [u8]) {
    quantize_blocks(src, dst, BlockQ5K::quantize);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::k_quants::test_util::*;

    #[test]
    fn size_pinned() {
        assert_eq!(std::mem::size_of::<BlockQ5K>(), 176);
    }

    #[test]
    fn dequantize_by_hand() {
        let mut b: BlockQ5K = bytemuck::Zeroable::zeroed();
        b.d = [0x00, 0x40]; // 2.0
        b.dmin = [0x00, 0x3C]; // 1.0
                               // Sub-block 3: scale = scales[3] & 63 = 5, min = scales[7] & 63 = 9.
        b.scales[3] = 5;
        b.scales[7] = 9;
        // Element 100 = sub-block 3 (c = 1, high nibble), l = 4: high nibble of qs[36],
        // fifth bit = bit 3 of qh[4].
        b.qs[36] = 0xE0;
        b.qh[4] = 1 << 3;
        // Element 101: low bits 0, fifth bit set -> q = 16.
        b.qh[5] = 1 << 3;
        let mut y = [0.0f32; QK_K];
        b.dequantize(&mut y);
        assert_eq!(y[100], 10.0 * 30.0 - 9.0);
        assert_eq!(y[101], 10.0 * 16.0 - 9.0);
        assert_eq!(y[102], -9.0);
        // qh[4] bit 3 belongs to sub-block 3 only: element 4 of sub-block 0 stays 0.
        assert_eq!(y[4], 0.0);
    }

    #[test]
    fn round_trip_gaussian() {
        let r = rel_rmse_gaussian(quantize_q5_k, dequantize_q5_k, 176, 64);
        // llama.cpp's reference: 0.0361 on N(0, 1) rows (64 x 4096, measured).
        assert!(r < 0.04, "Q5_K relative RMSE {r}");
    }

    #[test]
    fn degenerate_inputs_stay_finite() {
        check_degenerate_inputs(quantize_q5_k, dequantize_q5_k, 176);
    }
}

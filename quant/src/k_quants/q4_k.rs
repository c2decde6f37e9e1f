//! Q4_K: 4-bit weights with a 6-bit scale and 6-bit min per 32 weights (4.5 bits/weight).

use super::search::{make_qkx2_quants, nearest_int, Qkx2Params};
use super::{
    dequantize_blocks, f16_to_f32, f32_to_f16, get_scale_min_k4, pack_scale_min_k4,
    quantize_blocks, K_SCALE_SIZE, QK_K,
};

/// One Q4_K super-block: 256 weights in 8 sub-blocks of 32, 144 bytes.
///
/// Weight `i` of sub-block `s` is `d·sc[s]·q - dmin·m[s]` with `q` in `0..=15` and the
/// 6-bit `sc`, `m` unpacked from `scales` (see [`BlockQ4K::scale_min`]).
///
/// | offset | field    | content |
/// |-------:|----------|---------|
/// | 0      | `d`      | f16 LE, super-block scale of the scales |
/// | 2      | `dmin`   | f16 LE, super-block scale of the mins |
/// | 4      | `scales` | eight 6-bit scales and eight 6-bit mins |
/// | 16     | `qs`     | 4-bit quants: element `64·c + l` is the low nibble of `qs[32·c + l]`, element `64·c + 32 + l` its high nibble (`c` < 4, `l` < 32) |
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq, Eq, bytemuck::Pod, bytemuck::Zeroable)]
pub struct BlockQ4K {
    /// Super-block scale for the scales, f16 little-endian.
    pub d: [u8; 2],
    /// Super-block scale for the mins, f16 little-endian.
    pub dmin: [u8; 2],
    /// Packed 6-bit scales and mins.
    pub scales: [u8; K_SCALE_SIZE],
    /// Packed 4-bit quants, two per byte.
    pub qs: [u8; QK_K / 2],
}

const _: () = assert!(std::mem::size_of::<BlockQ4K>() == 144);
const _: () = assert!(std::mem::align_of::<BlockQ4K>() == 1);

impl BlockQ4K {
    /// The super-block scale `d` as f32.
    pub fn d(&self) -> f32 {
        f16_to_f32(self.d)
    }

    /// The super-block min scale `dmin` as f32.
    pub fn dmin(&self) -> f32 {
        f16_to_f32(self.dmin)
    }

    /// The 6-bit `(scale, min)` of sub-block `j` (0..8).
    ///
    /// Bytes 0..4 of `scales` hold the scales of sub-blocks 0..4 in their low 6 bits,
    /// bytes 4..8 their mins. Sub-blocks 4..8 keep their low 4 bits in bytes 8..12 (scale
    /// in the low nibble, min in the high) and their top 2 bits in the top 2 bits of
    /// bytes 0..4 (scales) and 4..8 (mins).
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
            for (y, &q) in sub.iter_mut().zip(&self.qs[32 * c..32 * c + 32]) {
                *y = dl * f32::from((q >> shift) & 0xF) - ml;
            }
        }
    }

    /// Quantizes 256 weights with ggml's reference Q4_K algorithm.
    pub fn quantize(x: &[f32; QK_K]) -> Self {
        const FIT: Qkx2Params = Qkx2Params {
            nmax: 15,
            rmin: -1.0,
            rdelta: 0.1,
            nstep: 20,
            use_mad: false,
        };
        let xs: &[[f32; 32]; 8] = bytemuck::cast_ref(x);
        let mut levels = [[0u8; 32]; 8];
        let (scales, mins) = fit_sub_blocks(xs, FIT, &mut levels);
        let (packed, d, dmin) = quantize_scales(&scales, &mins);
        let mut block = BlockQ4K {
            d,
            dmin,
            scales: packed,
            qs: [0; QK_K / 2],
        };
        requantize(xs, block.d(), block.dmin(), &block.scales, 15, &mut levels);
        for (qs, pair) in block.qs.chunks_exact_mut(32).zip(levels.chunks_exact(2)) {
            for ((q, &lo), &hi) in qs.iter_mut().zip(&pair[0]).zip(&pair[1]) {
                *q = lo | (hi << 4);
            }
        }
        block
    }
}

/// Fits scale and min of each 32-weight sub-block (shared by Q4_K and Q5_K).
///
/// The error weight `rms(x) + |x|` favours large weights without ignoring small ones.
pub(crate) fn fit_sub_blocks(
    xs: &[[f32; 32]; 8],
    fit: Qkx2Params,
    levels: &mut [[u8; 32]; 8],
) -> ([f32; 8], [f32; 8]) {
    let mut scales = [0.0f32; 8];
    let mut mins = [0.0f32; 8];
    for (j, sub) in xs.iter().enumerate() {
        let mut sum_x2 = 0.0f32;
        for &v in sub {
            sum_x2 += v * v;
        }
        let av_x = (sum_x2 / 32.0).sqrt();
        let weights = sub.map(|v| av_x + v.abs());
        (scales[j], mins[j]) = make_qkx2_quants(sub, &weights, fit, &mut levels[j]);
    }
    (scales, mins)
}

/// Quantizes eight sub-block scales and mins to 6 bits each against the largest of each;
/// returns the packed bytes and the f16 `d` and `dmin` (shared by Q4_K and Q5_K).
pub(crate) fn quantize_scales(
    scales: &[f32; 8],
    mins: &[f32; 8],
) -> ([u8; K_SCALE_SIZE], [u8; 2], [u8; 2]) {
    let mut max_scale = 0.0f32;
    let mut max_min = 0.0f32;
    for (&s, &m) in scales.iter().zip(mins) {
        if s > max_scale {
            max_scale = s;
        }
        if m > max_min {
            max_min = m;
        }
    }
    let inv_scale = if max_scale > 0.0 {
        63.0 / max_scale
    } else {
        0.0
    };
    let inv_min = if max_min > 0.0 { 63.0 / max_min } else { 0.0 };
    // Truncating casts then a clamp, as ggml stores into a uint8_t before its MIN.
    let ls = scales.map(|s| (nearest_int(inv_scale * s) as u8).min(63));
    let lm = mins.map(|m| (nearest_int(inv_min * m) as u8).min(63));
    (
        pack_scale_min_k4(&ls, &lm),
        f32_to_f16(max_scale / 63.0),
        f32_to_f16(max_min / 63.0),
    )
}

/// Re-rounds every weight to `0..=nmax` against the scales and mins as they will be
/// decoded, so the f16/6-bit rounding of the scales costs as little as possible.
/// Sub-blocks whose decoded scale is zero keep the levels of the fit.
pub(crate) fn requantize(
    xs: &[[f32; 32]; 8],
    d_all: f32,
    dmin_all: f32,
    packed: &[u8; K_SCALE_SIZE],
    nmax: i32,
    levels: &mut [[u8; 32]; 8],
) {
    for (j, (sub, lv)) in xs.iter().zip(levels.iter_mut()).enumerate() {
        let (sc, m) = get_scale_min_k4(j, packed);
        let d = d_all * f32::from(sc);
        if d == 0.0 {
            continue;
        }
        let dm = dmin_all * f32::from(m);
        for (q, &v) in lv.iter_mut().zip(sub) {
            *q = nearest_int((v + dm) / d).clamp(0, nmax) as u8;
        }
    }
}

/// Decodes Q4_K blocks from `src` into `dst` (256 floats per 144-byte block).
pub fn dequantize_q4_k(src: &[u8], dst: &mut [f32]) {
    dequantize_blocks(src, dst, BlockQ4K::dequantize);
}

/// Encodes `src` (256 floats per block) as Q4_K into `dst` with ggml's reference
/// quantizer (`quantize_row_q4_K_ref`).
pub fn quantize_q4_k(src: &[f32], dst: &mut [u8]) {
    quantize_blocks(src, dst, BlockQ4K::quantize);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::k_quants::test_util::*;

    #[test]
    fn size_pinned() {
        assert_eq!(std::mem::size_of::<BlockQ4K>(), 144);
    }

    #[test]
    fn dequantize_by_hand() {
        let mut b: BlockQ4K = bytemuck::Zeroable::zeroed();
        b.d = [0x00, 0x3C]; // 1.0
        b.dmin = [0x00, 0x38]; // 0.5
                               // Sub-block 1: scale = scales[1] & 63 = 3, min = scales[5] & 63 = 4.
        b.scales[1] = 3;
        b.scales[5] = 4;
        // Sub-block 6: scale low nibble scales[10] = 0x1, top bits scales[2] >> 6 = 1
        //   -> 17; min high nibble scales[10] = 0x2, top bits scales[6] >> 6 = 0 -> 2.
        b.scales[10] = 0x21;
        b.scales[2] = 0b01_000000;
        // Element 40 = sub-block 1, index 8: high nibble of qs[8].
        b.qs[8] = 0xA0;
        // Element 200 = sub-block 6 (c = 3, low nibble), index 8: low nibble of qs[104].
        b.qs[104] = 0x07;
        let mut y = [0.0f32; QK_K];
        b.dequantize(&mut y);
        assert_eq!(y[40], 3.0 * 10.0 - 0.5 * 4.0);
        assert_eq!(y[8], 0.0); // sub-block 0: scale 0, min 0
        assert_eq!(y[200], 17.0 * 7.0 - 0.5 * 2.0);
        assert_eq!(y[201], -1.0); // q = 0 -> -dmin*m
                                  // Sub-block 2 reads scales[2] & 63 = 0: the top bits belong to sub-block 6.
        assert_eq!(y[64], 0.0);
    }

    #[test]
    fn round_trip_gaussian() {
        let r = rel_rmse_gaussian(quantize_q4_k, dequantize_q4_k, 144, 64);
        // llama.cpp's reference: 0.0712 on N(0, 1) rows (64 x 4096, measured).
        assert!(r < 0.08, "Q4_K relative RMSE {r}");
    }

    #[test]
    fn degenerate_inputs_stay_finite() {
        check_degenerate_inputs(quantize_q4_k, dequantize_q4_k, 144);
    }
}

//! Q8_K: 8-bit weights with one f32 scale per 256, plus sums of 16 (intermediate format).
//!
//! ggml uses Q8_K only for the activations in K-quant dot products; it is never stored in
//! model files. `bsums` lets a dot product with a "min" format (Q2_K, Q4_K, Q5_K)
//! account for the mins with one multiply per 16 elements.

use super::search::nearest_int;
use super::{dequantize_blocks, quantize_blocks, QK_K};

/// One Q8_K super-block: 256 weights, 292 bytes.
///
/// Weight `i` is `d·qs[i]`.
///
/// | offset | field   | content |
/// |-------:|---------|---------|
/// | 0      | `d`     | f32 LE scale |
/// | 4      | `qs`    | 256 i8 quants |
/// | 260    | `bsums` | 16 i16 LE: sum of `qs` over each run of 16 |
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq, Eq, bytemuck::Pod, bytemuck::Zeroable)]
pub struct BlockQ8K {
    /// Scale, f32 little-endian.
    pub d: [u8; 4],
    /// Quants, two's-complement i8.
    pub qs: [u8; QK_K],
    /// Sums of each 16 consecutive quants, i16 little-endian.
    pub bsums: [[u8; 2]; QK_K / 16],
}

const _: () = assert!(std::mem::size_of::<BlockQ8K>() == 292);
const _: () = assert!(std::mem::align_of::<BlockQ8K>() == 1);

impl BlockQ8K {
    /// The scale `d`.
    pub fn d(&self) -> f32 {
        f32::from_le_bytes(self.d)
    }

    /// Quant `i` (0..256) as a signed integer.
    pub fn q(&self, i: usize) -> i8 {
        self.qs[i % QK_K] as i8
    }

    /// The stored sum of quants `16·j .. 16·j + 16`.
    pub fn bsum(&self, j: usize) -> i16 {
        i16::from_le_bytes(self.bsums[j % (QK_K / 16)])
    }

    /// Decodes the 256 weights of this block.
    pub fn dequantize(&self, out: &mut [f32; QK_K]) {
        let d = self.d();
        for (y, &q) in out.iter_mut().zip(&self.qs) {
            *y = d * f32::from(q as i8);
        }
    }

    /// Quantizes 256 weights with ggml's reference Q8_K algorithm.
    pub fn quantize(x: &[f32; QK_K]) -> Self {
        let mut block: BlockQ8K = bytemuck::Zeroable::zeroed();
        let mut max = 0.0f32;
        let mut amax = 0.0f32;
        for &v in x {
            let a = v.abs();
            if a > amax {
                amax = a;
                max = v;
            }
        }
        if amax == 0.0 {
            return block;
        }
        // -127 rather than -128 keeps every quant's negation in range, which ggml's SIMD
        // dot products rely on.
        let iscale = -127.0 / max;
        for (q, &v) in block.qs.iter_mut().zip(x) {
            *q = nearest_int(iscale * v).min(127) as i8 as u8;
        }
        for (sum, run) in block.bsums.iter_mut().zip(block.qs.chunks_exact(16)) {
            let s: i32 = run.iter().map(|&q| i32::from(q as i8)).sum();
            *sum = (s as i16).to_le_bytes();
        }
        block.d = (1.0 / iscale).to_le_bytes();
        block
    }
}

/// Decodes Q8_K blocks from `src` into `dst` (256 floats per 292-byte block).
pub fn dequantize_q8_k(src: &[u8], dst: &mut [f32]) {
    dequantize_blocks(src, dst, BlockQ8K::dequantize);
}

/// Encodes `src` (256 floats per block) as Q8_K into `dst` with ggml's reference
/// quantizer (`quantize_row_q8_K_ref`).
pub fn quantize_q8_k(src: &[f32], dst: &mut [u8]) {
    quantize_blocks(src, dst, BlockQ8K::quantize);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::k_quants::test_util::*;

    #[test]
    fn size_pinned() {
        assert_eq!(std::mem::size_of::<BlockQ8K>(), 292);
    }

    #[test]
    fn dequantize_by_hand() {
        let mut b: BlockQ8K = bytemuck::Zeroable::zeroed();
        b.d = 0.25f32.to_le_bytes();
        b.qs[0] = 100;
        b.qs[255] = (-128i8) as u8;
        let mut y = [0.0f32; QK_K];
        b.dequantize(&mut y);
        assert_eq!(y[0], 25.0);
        assert_eq!(y[255], -32.0);
        assert_eq!(y[1], 0.0);
    }

    #[test]
    fn quantize_by_hand() {
        // The largest |x| is negative: iscale = -127 / -2.54 = +50, so x = -2.54 maps to
        // -127 and d = 1/50. Every other x is (nearly) a multiple of 1/50.
        let mut x = [0.0f32; QK_K];
        x[0] = -2.54;
        x[1] = 1.0;
        x[17] = 0.5;
        x[18] = -0.02;
        let b = BlockQ8K::quantize(&x);
        assert_eq!(b.q(0), -127);
        assert_eq!(b.q(1), 50);
        assert_eq!(b.q(17), 25);
        assert_eq!(b.q(18), -1);
        assert_eq!(b.bsum(0), -127 + 50);
        assert_eq!(b.bsum(1), 25 - 1);
        assert!((b.d() - 0.02).abs() < 1e-7, "d = {}", b.d());
    }

    #[test]
    fn round_trip_gaussian() {
        let r = rel_rmse_gaussian(quantize_q8_k, dequantize_q8_k, 292, 64);
        // llama.cpp's reference: 0.0069 on N(0, 1) rows (64 x 4096, measured).
        assert!(r < 0.008, "Q8_K relative RMSE {r}");
    }

    #[test]
    fn degenerate_inputs_stay_finite() {
        check_degenerate_inputs(quantize_q8_k, dequantize_q8_k, 292);
    }
}

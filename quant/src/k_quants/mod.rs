//! The K-quant super-block formats: Q2_K, Q3_K, Q4_K, Q5_K, Q6_K and Q8_K.
//!
//! Every K-quant covers [`QK_K`] = 256 weights per block. The block is split into
//! sub-blocks (16 of 16 weights, or 8 of 32) that each carry a small integer scale (and
//! for the "min" formats Q2_K, Q4_K, Q5_K a small integer min); those integers are in turn
//! scaled by one or two f16 super-block factors. The layouts and the dequantizers are
//! bit-exact with ggml; the quantizers follow ggml's reference (no importance matrix)
//! algorithms operation for operation, so that they produce the same bytes as
//! `llama-quantize` run without `--imatrix`.
//!
//! The super-block factors are f16, so weights of magnitude above roughly 10^6 (the exact
//! limit depends on the format) overflow them and decode to infinities, exactly as in
//! ggml. Nothing panics on any input, NaN and infinities included.
//!
//! All block structs consist of byte arrays only: their alignment is 1, so any `&[u8]` of
//! the right length can be viewed as blocks with [`bytemuck`] without copying.

mod q2_k;
mod q3_k;
mod q4_k;
mod q5_k;
mod q6_k;
mod q8_k;
mod search;

#[cfg(test)]
mod proptests;

pub use q2_k::{dequantize_q2_k, quantize_q2_k, BlockQ2K};
pub use q3_k::{dequantize_q3_k, quantize_q3_k, BlockQ3K};
pub use q4_k::{dequantize_q4_k, quantize_q4_k, BlockQ4K};
pub use q5_k::{dequantize_q5_k, quantize_q5_k, BlockQ5K};
pub use q6_k::{dequantize_q6_k, quantize_q6_k, BlockQ6K};
pub use q8_k::{dequantize_q8_k, quantize_q8_k, BlockQ8K};

/// Number of weights in one K-quant super-block.
pub const QK_K: usize = 256;

/// Size in bytes of the packed 6-bit scales and mins of Q4_K and Q5_K (and of the packed
/// 6-bit scales of Q3_K).
pub const K_SCALE_SIZE: usize = 12;

/// Reads a little-endian IEEE half as f32 (exact: every f16 is representable).
#[inline]
pub(crate) fn f16_to_f32(bytes: [u8; 2]) -> f32 {
    half::f16::from_le_bytes(bytes).to_f32()
}

/// Rounds an f32 to the nearest f16 (ties to even, like ggml's conversion) as LE bytes.
#[inline]
pub(crate) fn f32_to_f16(value: f32) -> [u8; 2] {
    half::f16::from_f32(value).to_le_bytes()
}

/// Unpacks the 6-bit scale and 6-bit min of sub-block `j` (0..8) of Q4_K / Q5_K.
///
/// Layout of the 12 bytes: bytes 0..4 hold the scales of sub-blocks 0..4 in their low 6
/// bits, bytes 4..8 the mins of sub-blocks 0..4. Sub-blocks 4..8 keep their low 4 bits in
/// the nibbles of bytes 8..12 (scale low, min high) and their top 2 bits in the otherwise
/// unused top bits of bytes 0..4 (scale) and 4..8 (min).
#[inline]
pub(crate) fn get_scale_min_k4(j: usize, q: &[u8; K_SCALE_SIZE]) -> (u8, u8) {
    let j = j & 7;
    if j < 4 {
        (q[j] & 63, q[j + 4] & 63)
    } else {
        let sc = (q[j + 4] & 0xF) | ((q[j - 4] >> 6) << 4);
        let m = (q[j + 4] >> 4) | ((q[j] >> 6) << 4);
        (sc, m)
    }
}

/// Packs eight 6-bit scales and eight 6-bit mins (each already `<= 63`) into the layout
/// read by [`get_scale_min_k4`].
pub(crate) fn pack_scale_min_k4(ls: &[u8; 8], lm: &[u8; 8]) -> [u8; K_SCALE_SIZE] {
    let mut q = [0u8; K_SCALE_SIZE];
    q[..4].copy_from_slice(&ls[..4]);
    q[4..8].copy_from_slice(&lm[..4]);
    for j in 4..8 {
        q[j + 4] = (ls[j] & 0xF) | ((lm[j] & 0xF) << 4);
        q[j - 4] |= (ls[j] >> 4) << 6;
        q[j] |= (lm[j] >> 4) << 6;
    }
    q
}

/// Dequantizes every whole block of `src` into the matching 256 floats of `dst`.
///
/// Stops at the shorter of the two; the public entry points are called with exactly
/// matching lengths (checked by `convert`), so nothing is left over there, and a direct
/// caller with mismatched slices gets a partial result instead of a panic.
pub(crate) fn dequantize_blocks<B: bytemuck::Pod>(
    src: &[u8],
    dst: &mut [f32],
    decode: impl Fn(&B, &mut [f32; QK_K]),
) {
    for (raw, out) in src
        .chunks_exact(std::mem::size_of::<B>())
        .zip(dst.chunks_exact_mut(QK_K))
    {
        // Alignment of every block is 1 and the chunk has exactly the block's size.
        let block: &B = bytemuck::from_bytes(raw);
        if let Ok(out) = <&mut [f32; QK_K]>::try_from(out) {
            decode(block, out);
        }
    }
}

/// Quantizes every whole 256-float block of `src` into the matching block of `dst`.
///
/// Same length policy as [`dequantize_blocks`].
pub(crate) fn quantize_blocks<B: bytemuck::Pod>(
    src: &[f32],
    dst: &mut [u8],
    encode: impl Fn(&[f32; QK_K]) -> B,
) {
    for (x, raw) in src
        .chunks_exact(QK_K)
        .zip(dst.chunks_exact_mut(std::mem::size_of::<B>()))
    {
        if let Ok(x) = <&[f32; QK_K]>::try_from(x) {
            raw.copy_from_slice(bytemuck::bytes_of(&encode(x)));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scale_min_packing_round_trips_all_values() {
        // Every 6-bit value in every slot, with neighbours that differ, so a wrong shift
        // or mask in either direction shows up.
        for v in 0..64u8 {
            let ls: [u8; 8] = std::array::from_fn(|j| (v + 7 * j as u8) & 63);
            let lm: [u8; 8] = std::array::from_fn(|j| (v + 13 * j as u8 + 5) & 63);
            let q = pack_scale_min_k4(&ls, &lm);
            for j in 0..8 {
                assert_eq!(get_scale_min_k4(j, &q), (ls[j], lm[j]), "v={v} j={j}");
            }
        }
    }

    #[test]
    fn scale_min_layout_by_hand() {
        // Sub-block 5: scale low nibble in byte 9 low, top bits in byte 1 bits 6..8;
        // min low nibble in byte 9 high, top bits in byte 5 bits 6..8.
        let mut q = [0u8; 12];
        q[9] = 0xA3; // scale low = 3, min low = 10
        q[1] = 0b10_000000; // scale top = 2 -> scale = 2*16 + 3 = 35
        q[5] = 0b01_000000; // min top = 1 -> min = 16 + 10 = 26
        assert_eq!(get_scale_min_k4(5, &q), (35, 26));
        // Sub-blocks 1 reads the low 6 bits of bytes 1 and 5 only.
        assert_eq!(get_scale_min_k4(1, &q), (0, 0));
    }

    #[test]
    fn f16_helpers() {
        assert_eq!(f16_to_f32([0x00, 0x3C]), 1.0);
        assert_eq!(f16_to_f32([0x00, 0xC0]), -2.0);
        assert_eq!(f32_to_f16(0.5), [0x00, 0x38]);
        // Ties to even: 1 + 2^-11 is halfway between 1 and 1 + 2^-10.
        assert_eq!(f32_to_f16(1.0 + 2f32.powi(-11)), [0x00, 0x3C]);
    }
}

/// Shared helpers for the per-format tests.
#[cfg(test)]
pub(crate) mod test_util {
    use super::QK_K;

    /// Quantizer / dequantizer entry points under test.
    pub type QuantFn = fn(&[f32], &mut [u8]);
    /// See [`QuantFn`].
    pub type DequantFn = fn(&[u8], &mut [f32]);

    /// Deterministic N(0, 1) samples (xorshift64* + Box-Muller), no dependencies.
    pub fn gaussian(n: usize, seed: u64) -> Vec<f32> {
        let mut s = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
        let mut uniform = move || {
            s ^= s >> 12;
            s ^= s << 25;
            s ^= s >> 27;
            let r = s.wrapping_mul(0x2545_F491_4F6C_DD1D);
            ((r >> 11) as f64 + 0.5) / (1u64 << 53) as f64
        };
        (0..n)
            .map(|_| {
                let (u1, u2) = (uniform(), uniform());
                ((-2.0 * u1.ln()).sqrt() * (2.0 * std::f64::consts::PI * u2).cos()) as f32
            })
            .collect()
    }

    /// Quantizes then dequantizes `x`, returning the decoded values.
    pub fn round_trip(q: QuantFn, dq: DequantFn, block_bytes: usize, x: &[f32]) -> Vec<f32> {
        let mut raw = vec![0u8; x.len() / QK_K * block_bytes];
        q(x, &mut raw);
        let mut y = vec![0.0f32; x.len()];
        dq(&raw, &mut y);
        y
    }

    /// RMSE of `y` against `x`, divided by the RMS of `x`.
    pub fn rel_rmse(x: &[f32], y: &[f32]) -> f64 {
        let err: f64 = x
            .iter()
            .zip(y)
            .map(|(&a, &b)| f64::from(a - b).powi(2))
            .sum();
        let sig: f64 = x.iter().map(|&a| f64::from(a).powi(2)).sum();
        (err / sig).sqrt()
    }

    /// Relative RMSE of a round trip on `nblocks` blocks of N(0, 1) data.
    pub fn rel_rmse_gaussian(q: QuantFn, dq: DequantFn, block_bytes: usize, nblocks: usize) -> f64 {
        let x = gaussian(nblocks * QK_K, 42);
        let y = round_trip(q, dq, block_bytes, &x);
        rel_rmse(&x, &y)
    }

    /// All-zero, constant, tiny, and outlier blocks must decode to finite values, and an
    /// all-zero block to exact zeros.
    pub fn check_degenerate_inputs(q: QuantFn, dq: DequantFn, block_bytes: usize) {
        let zeros = vec![0.0f32; QK_K];
        let y = round_trip(q, dq, block_bytes, &zeros);
        assert!(y.iter().all(|&v| v == 0.0), "zeros do not decode to zeros");

        let mut outlier = gaussian(QK_K, 7);
        outlier[77] = 5000.0;
        let mut neg_outlier = gaussian(QK_K, 8);
        neg_outlier[200] = -5000.0;
        let mut cases = vec![
            ("constant positive", vec![1.5f32; QK_K]),
            ("constant negative", vec![-0.75f32; QK_K]),
            ("tiny", vec![1e-30f32; QK_K]),
            ("one non-zero", {
                let mut v = vec![0.0f32; QK_K];
                v[3] = 1.0;
                v
            }),
            ("outlier", outlier),
            ("negative outlier", neg_outlier),
        ];
        // Large but f16-representable magnitudes.
        cases.push((
            "large",
            gaussian(QK_K, 9).iter().map(|v| v * 1000.0).collect(),
        ));
        for (name, x) in cases {
            let y = round_trip(q, dq, block_bytes, &x);
            assert!(y.iter().all(|v| v.is_finite()), "{name}: non-finite output");
            // Every case except "tiny" (below f16 resolution) should be roughly right.
            if name != "tiny" {
                let r = rel_rmse(&x, &y);
                assert!(r < 0.9, "{name}: relative RMSE {r}");
            }
        }
    }
}

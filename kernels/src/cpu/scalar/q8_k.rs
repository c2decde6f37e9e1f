//! Q8_K activation quantizer: the scalar twin of the SIMD versions.

use edge_quant::k_quants::BlockQ8K;

/// Quantizes `x` (`out.len() * 256` elements) to Q8_K with edge-quant's reference
/// quantizer, bit-exact with ggml's `quantize_row_q8_K_ref`.
pub fn quantize_row_q8_k(x: &[f32], out: &mut [BlockQ8K]) {
    for (xb, ob) in x.chunks_exact(256).zip(out) {
        if let Ok(xb) = <&[f32; 256]>::try_from(xb) {
            *ob = BlockQ8K::quantize(xb);
        }
    }
}

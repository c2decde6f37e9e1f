//! Q8_0 weights · Q8_0 activations, and the Q8_0 activation quantizer.

use edge_quant::legacy::{BlockQ8_0, QK};

/// `Σ_blocks (d_w·d_a) · Σ_i q_w[i]·q_a[i]`, over the common number of blocks.
pub fn vec_dot_q8_0_q8_0(w: &[BlockQ8_0], a: &[BlockQ8_0]) -> f32 {
    let mut sum = 0.0f32;
    for (bw, ba) in w.iter().zip(a) {
        let isum: i32 = bw
            .qs
            .iter()
            .zip(&ba.qs)
            .map(|(&x, &y)| i32::from(x) * i32::from(y))
            .sum();
        sum += (bw.d() * ba.d()) * isum as f32;
    }
    sum
}

/// Quantizes `x` (`out.len() * 32` elements) to Q8_0 with edge-quant's reference
/// quantizer, bit-exact with ggml's `quantize_row_q8_0_ref`.
pub fn quantize_row_q8_0(x: &[f32], out: &mut [BlockQ8_0]) {
    let n = out.len().min(x.len() / QK);
    edge_quant::legacy::quantize_q8_0(&x[..n * QK], bytemuck::cast_slice_mut(&mut out[..n]));
}

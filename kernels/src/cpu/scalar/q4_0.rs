//! Q4_0 weights · Q8_0 activations.

use edge_quant::legacy::{BlockQ4_0, BlockQ8_0, QK};

/// `Σ_blocks (d_w·d_a) · Σ_i (q_w[i] - 8)·q_a[i]`, over the common number of blocks.
pub fn vec_dot_q4_0_q8_0(w: &[BlockQ4_0], a: &[BlockQ8_0]) -> f32 {
    let mut sum = 0.0f32;
    for (bw, ba) in w.iter().zip(a) {
        let mut isum = 0i32;
        for j in 0..QK / 2 {
            let lo = i32::from(bw.qs[j] & 0x0f) - 8;
            let hi = i32::from(bw.qs[j] >> 4) - 8;
            isum += lo * i32::from(ba.qs[j]) + hi * i32::from(ba.qs[j + QK / 2]);
        }
        sum += (bw.d() * ba.d()) * isum as f32;
    }
    sum
}

//! Q5_1 weights · Q8_1 activations.

use super::q5_0::q5;
use edge_quant::legacy::{BlockQ5_1, BlockQ8_1, QK};

/// `Σ_blocks (d_w·d_a) · Σ_i q_w[i]·q_a[i] + m_w·s_a`, with `s_a` the activation block's
/// stored `d·Σq` (as for Q4_1).
pub fn vec_dot_q5_1_q8_1(w: &[BlockQ5_1], a: &[BlockQ8_1]) -> f32 {
    let mut sum = 0.0f32;
    for (bw, ba) in w.iter().zip(a) {
        let isum: i32 = (0..QK)
            .map(|i| q5(&bw.qs, bw.qh, i) * i32::from(ba.qs[i]))
            .sum();
        sum += (bw.d() * ba.d()) * isum as f32 + bw.m() * ba.s();
    }
    sum
}

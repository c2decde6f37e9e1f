//! Q4_1 weights · Q8_1 activations.

use edge_quant::legacy::{BlockQ4_1, BlockQ8_1, QK};

/// `Σ_blocks (d_w·d_a) · Σ_i q_w[i]·q_a[i] + m_w·s_a`, where `s_a = d_a·Σ q_a` is the
/// activation block's stored sum (as ggml uses it; it is not recomputed from `qs`).
pub fn vec_dot_q4_1_q8_1(w: &[BlockQ4_1], a: &[BlockQ8_1]) -> f32 {
    let mut sum = 0.0f32;
    for (bw, ba) in w.iter().zip(a) {
        let mut isum = 0i32;
        for j in 0..QK / 2 {
            let lo = i32::from(bw.qs[j] & 0x0f);
            let hi = i32::from(bw.qs[j] >> 4);
            isum += lo * i32::from(ba.qs[j]) + hi * i32::from(ba.qs[j + QK / 2]);
        }
        sum += (bw.d() * ba.d()) * isum as f32 + bw.m() * ba.s();
    }
    sum
}

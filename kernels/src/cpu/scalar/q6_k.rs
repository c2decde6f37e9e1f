//! Q6_K weights · Q8_K activations.

use edge_quant::k_quants::{BlockQ6K, BlockQ8K};

/// Per super-block of 256: `(d_w·d_a) · Σ_j scale[j] · Σ_i (q_w - 32)·q_a`, with `j` over
/// the sixteen 16-element sub-blocks. (The activation's `bsums` are not used.)
pub fn vec_dot_q6_k_q8_k(w: &[BlockQ6K], a: &[BlockQ8K]) -> f32 {
    let mut sum = 0.0f32;
    for (bw, ba) in w.iter().zip(a) {
        let mut sumi = 0i32;
        for j in 0..16 {
            let mut isum = 0i32;
            for e in 16 * j..16 * j + 16 {
                let (h, k, l) = (e / 128, (e / 32) % 4, e % 32);
                let low = (bw.ql[64 * h + 32 * (k % 2) + l] >> (4 * (k / 2))) & 0x0f;
                let high = (bw.qh[32 * h + l] >> (2 * k)) & 3;
                let q = i32::from(low | (high << 4)) - 32;
                isum += q * i32::from(ba.q(e));
            }
            sumi += i32::from(bw.scale(j)) * isum;
        }
        sum += (bw.d() * ba.d()) * sumi as f32;
    }
    sum
}

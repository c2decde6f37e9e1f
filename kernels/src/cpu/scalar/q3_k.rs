//! Q3_K weights · Q8_K activations.

use edge_quant::k_quants::{BlockQ3K, BlockQ8K};

/// Per super-block of 256: `(d_w·d_a) · Σ_s scale[s] · Σ_i (q_w - 4)·q_a`, with `s` over
/// the sixteen 16-element sub-blocks and `q_w` in `0..8` the two low bits from `qs` plus
/// `4·` the bit from `hmask`.
pub fn vec_dot_q3_k_q8_k(w: &[BlockQ3K], a: &[BlockQ8K]) -> f32 {
    let mut sum = 0.0f32;
    for (bw, ba) in w.iter().zip(a) {
        let mut sumi = 0i32;
        for s in 0..16 {
            let mut isum = 0i32;
            for e in 16 * s..16 * s + 16 {
                let (h, k, l) = (e / 128, (e / 32) % 4, e % 32);
                let low = (bw.qs[32 * h + l] >> (2 * k)) & 3;
                let high = (bw.hmask[l] >> (e / 32)) & 1;
                let q = i32::from(low | high << 2) - 4;
                isum += q * i32::from(ba.q(e));
            }
            sumi += i32::from(bw.scale(s)) * isum;
        }
        sum += (bw.d() * ba.d()) * sumi as f32;
    }
    sum
}

//! Q2_K weights · Q8_K activations.

use edge_quant::k_quants::{BlockQ2K, BlockQ8K};

/// Per super-block of 256: `(d_w·d_a)·Σ_s sc[s]·Σ_i q_w·q_a  -  (dmin_w·d_a)·Σ_s m[s]·bsum_s`
/// with `s` over the sixteen 16-element sub-blocks (`sc`, `m` the low and high nibbles of
/// `scales[s]`) and `bsum_s` the activation's stored sum of sub-block `s`.
pub fn vec_dot_q2_k_q8_k(w: &[BlockQ2K], a: &[BlockQ8K]) -> f32 {
    let mut sum = 0.0f32;
    for (bw, ba) in w.iter().zip(a) {
        let mut sumi = 0i32;
        let mut summ = 0i32;
        for s in 0..16 {
            let mut isum = 0i32;
            for e in 16 * s..16 * s + 16 {
                let (h, k, l) = (e / 128, (e / 32) % 4, e % 32);
                let q = (bw.qs[32 * h + l] >> (2 * k)) & 3;
                isum += i32::from(q) * i32::from(ba.q(e));
            }
            sumi += i32::from(bw.scales[s] & 0x0f) * isum;
            summ += i32::from(bw.scales[s] >> 4) * i32::from(ba.bsum(s));
        }
        let da = ba.d();
        sum += (bw.d() * da) * sumi as f32 - (bw.dmin() * da) * summ as f32;
    }
    sum
}

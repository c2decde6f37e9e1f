//! Q4_K weights · Q8_K activations.

use edge_quant::k_quants::{BlockQ4K, BlockQ8K};

/// Per super-block of 256: `(d_w·d_a)·Σ_j sc[j]·Σ_i q_w·q_a  -  (dmin_w·d_a)·Σ_j m[j]·bsum_j`
/// with `j` over the eight 32-element sub-blocks and `bsum_j` the activation's two stored
/// 16-element sums of sub-block `j` (as ggml uses them; not recomputed from `qs`).
pub fn vec_dot_q4_k_q8_k(w: &[BlockQ4K], a: &[BlockQ8K]) -> f32 {
    let mut sum = 0.0f32;
    for (bw, ba) in w.iter().zip(a) {
        let mut sumi = 0i32;
        let mut summ = 0i32;
        for j in 0..8 {
            let (sc, m) = bw.scale_min(j);
            let (c, shift) = (j / 2, 4 * (j % 2));
            let mut isum = 0i32;
            for l in 0..32 {
                let q = i32::from((bw.qs[32 * c + l] >> shift) & 0x0f);
                isum += q * i32::from(ba.q(32 * j + l));
            }
            sumi += i32::from(sc) * isum;
            summ += i32::from(m) * (i32::from(ba.bsum(2 * j)) + i32::from(ba.bsum(2 * j + 1)));
        }
        let da = ba.d();
        sum += (bw.d() * da) * sumi as f32 - (bw.dmin() * da) * summ as f32;
    }
    sum
}

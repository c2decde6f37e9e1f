//! Q5_K weights · Q8_K activations.

use edge_quant::k_quants::{BlockQ5K, BlockQ8K};

/// As [`super::vec_dot_q4_k_q8_k`], with 5-bit quants: the fifth bit of element
/// `32·j + l` is bit `j` of `qh[l]`.
pub fn vec_dot_q5_k_q8_k(w: &[BlockQ5K], a: &[BlockQ8K]) -> f32 {
    let mut sum = 0.0f32;
    for (bw, ba) in w.iter().zip(a) {
        let mut sumi = 0i32;
        let mut summ = 0i32;
        for j in 0..8 {
            let (sc, m) = bw.scale_min(j);
            let (c, shift) = (j / 2, 4 * (j % 2));
            let mut isum = 0i32;
            for l in 0..32 {
                let low = (bw.qs[32 * c + l] >> shift) & 0x0f;
                let high = (bw.qh[l] >> j) & 1;
                isum += i32::from(low | high << 4) * i32::from(ba.q(32 * j + l));
            }
            sumi += i32::from(sc) * isum;
            summ += i32::from(m) * (i32::from(ba.bsum(2 * j)) + i32::from(ba.bsum(2 * j + 1)));
        }
        let da = ba.d();
        sum += (bw.d() * da) * sumi as f32 - (bw.dmin() * da) * summ as f32;
    }
    sum
}

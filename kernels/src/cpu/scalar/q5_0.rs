//! Q5_0 weights · Q8_0 activations.

use edge_quant::legacy::{BlockQ5_0, BlockQ8_0, QK};

/// The 5-bit quant `i` (0..32) of a Q5_0/Q5_1 block: its nibble (low nibbles hold
/// elements 0..16, high nibbles 16..32) plus bit `i` of the little-endian `qh` word.
#[inline]
pub(crate) fn q5(qs: &[u8; QK / 2], qh: [u8; 4], i: usize) -> i32 {
    let nib = if i < QK / 2 {
        qs[i] & 0x0f
    } else {
        qs[i - QK / 2] >> 4
    };
    let high = (u32::from_le_bytes(qh) >> i) & 1;
    i32::from(nib) | (high as i32) << 4
}

/// `Σ_blocks (d_w·d_a) · Σ_i (q_w[i] - 16)·q_a[i]`, over the common number of blocks.
pub fn vec_dot_q5_0_q8_0(w: &[BlockQ5_0], a: &[BlockQ8_0]) -> f32 {
    let mut sum = 0.0f32;
    for (bw, ba) in w.iter().zip(a) {
        let isum: i32 = (0..QK)
            .map(|i| (q5(&bw.qs, bw.qh, i) - 16) * i32::from(ba.qs[i]))
            .sum();
        sum += (bw.d() * ba.d()) * isum as f32;
    }
    sum
}

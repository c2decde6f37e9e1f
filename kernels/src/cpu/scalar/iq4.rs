//! IQ4_NL weights · Q8_0 activations and IQ4_XS weights · Q8_K activations.

use edge_quant::iq4::{BlockIQ4_NL, BlockIQ4_XS, KVALUES};
use edge_quant::k_quants::BlockQ8K;
use edge_quant::legacy::BlockQ8_0;

/// `Σ_i KVALUES[q_w[i]]·q_a[i]` over one 32-element group of 16 packed index bytes
/// (low nibbles: elements 0..16, high nibbles: 16..32) and its 32 activation quants.
#[inline]
fn group(qs: &[u8], y: &[u8]) -> i32 {
    let mut isum = 0i32;
    for (j, &q) in qs.iter().enumerate() {
        let lo = i32::from(KVALUES[usize::from(q & 0x0f)]);
        let hi = i32::from(KVALUES[usize::from(q >> 4)]);
        isum += lo * i32::from(y[j] as i8) + hi * i32::from(y[j + 16] as i8);
    }
    isum
}

/// `Σ_blocks (d_w·d_a) · Σ_i KVALUES[q_w[i]]·q_a[i]`.
pub fn vec_dot_iq4_nl_q8_0(w: &[BlockIQ4_NL], a: &[BlockQ8_0]) -> f32 {
    let mut sum = 0.0f32;
    for (bw, ba) in w.iter().zip(a) {
        let y: &[u8; 32] = bytemuck::cast_ref(&ba.qs);
        sum += (bw.d() * ba.d()) * group(&bw.qs, y) as f32;
    }
    sum
}

/// Per super-block of 256: `(d_w·d_a) · Σ_ib ls[ib] · Σ_i KVALUES[q_w]·q_a`, with `ib`
/// over the eight 32-element sub-blocks and `ls` their signed 6-bit scales.
pub fn vec_dot_iq4_xs_q8_k(w: &[BlockIQ4_XS], a: &[BlockQ8K]) -> f32 {
    let mut sum = 0.0f32;
    for (bw, ba) in w.iter().zip(a) {
        let sumi: i32 = (0..8)
            .map(|ib| bw.sub_scale(ib) * group(&bw.qs[16 * ib..16 * ib + 16], &ba.qs[32 * ib..]))
            .sum();
        sum += (bw.d() * ba.d()) * sumi as f32;
    }
    sum
}

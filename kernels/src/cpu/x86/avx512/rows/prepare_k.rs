//! The Q8_K activation row as the K-quant row kernels read it: per 256-element block,
//! the quants in the order the weights unpack into, and the activation-side sums that
//! the mins (Q4_K, Q5_K) or the offset of 32 (Q6_K) meet.

use edge_quant::k_quants::BlockQ8K;
use std::cell::Cell;

/// One Q8_K block for Q4_K/Q5_K weights.
///
/// A weight block unpacks, per 64 bytes of packed nibbles `64k..64k + 64` (`k` 0 or 1),
/// into its low nibbles (sub-blocks `4k` and `4k + 2`, 32 elements each) and its high
/// nibbles (`4k + 1` and `4k + 3`): `y` holds the activation's 32-element sub-blocks in
/// that order, 0, 2, 1, 3, 4, 6, 5, 7.
#[derive(Clone, Copy)]
#[repr(C, align(64))]
pub(super) struct KMinBlock {
    pub y: [i8; 256],
    /// The sixteen 16-element sums, even ones first (`b0, b2, .., b14, b1, b3, .., b15`),
    /// so that `vpmaddwd` with the eight mins repeated twice sums `m_j·(b_2j + b_2j+1)`.
    pub bs: [i16; 16],
    /// The block's scale.
    pub d: f32,
}

impl Default for KMinBlock {
    fn default() -> Self {
        Self {
            y: [0; 256],
            bs: [0; 16],
            d: 0.0,
        }
    }
}

/// One Q8_K block for Q6_K weights.
///
/// A weight block unpacks into four vectors `v` of 64 quants, elements
/// `32v..32v + 32` and `128 + 32v..128 + 32v + 32`; `y` holds the activation in that
/// order.
#[derive(Clone, Copy)]
#[repr(C, align(64))]
pub(super) struct K6Block {
    pub y: [i8; 256],
    /// `-32 ·` the sum of the four activation quants of each i32 lane of each vector
    /// (lane `i` of vector `v` at `16v + i`): the weights' quants are taken unsigned.
    pub bias: [i32; 64],
    /// The block's scale.
    pub d: f32,
}

impl Default for K6Block {
    fn default() -> Self {
        Self {
            y: [0; 256],
            bias: [0; 64],
            d: 0.0,
        }
    }
}

thread_local! {
    /// The calling thread's prepared row for Q4_K/Q5_K weights.
    pub(super) static PREP_K_MIN: Cell<Vec<KMinBlock>> = const { Cell::new(Vec::new()) };
    /// The calling thread's prepared row for Q6_K weights.
    pub(super) static PREP_K6: Cell<Vec<K6Block>> = const { Cell::new(Vec::new()) };
}

/// The activation quants of a block as i8.
fn quants(a: &BlockQ8K) -> [i8; 256] {
    a.qs.map(|b| b as i8)
}

/// Prepares a Q8_K row for Q4_K/Q5_K weights.
pub(super) fn k_min(act: &[BlockQ8K], out: &mut [KMinBlock]) {
    for (p, a) in out.iter_mut().zip(act) {
        let q = quants(a);
        for (slot, sub) in [0, 2, 1, 3, 4, 6, 5, 7].into_iter().enumerate() {
            p.y[32 * slot..32 * slot + 32].copy_from_slice(&q[32 * sub..32 * sub + 32]);
        }
        for j in 0..8 {
            p.bs[j] = a.bsum(2 * j);
            p.bs[8 + j] = a.bsum(2 * j + 1);
        }
        p.d = a.d();
    }
}

/// Prepares a Q8_K row for Q6_K weights.
pub(super) fn k6(act: &[BlockQ8K], out: &mut [K6Block]) {
    for (p, a) in out.iter_mut().zip(act) {
        let q = quants(a);
        for v in 0..4 {
            let y = &mut p.y[64 * v..64 * v + 64];
            y[..32].copy_from_slice(&q[32 * v..32 * v + 32]);
            y[32..].copy_from_slice(&q[128 + 32 * v..128 + 32 * v + 32]);
        }
        for (b, four) in p.bias.iter_mut().zip(p.y.chunks_exact(4)) {
            *b = -32 * four.iter().map(|&v| i32::from(v)).sum::<i32>();
        }
        p.d = a.d();
    }
}

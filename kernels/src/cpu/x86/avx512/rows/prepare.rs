//! The activation row as the row kernels read it, four blocks per group, padded with
//! zeros to whole groups (a zero block adds exactly nothing).

use edge_quant::legacy::{BlockQ8_0, BlockQ8_1};
use half::f16;
use std::cell::Cell;

/// Four activation blocks for 4-bit weights, whose 16 low nibbles are elements 0..16 of
/// a block and the 16 high nibbles elements 16..32: bytes `16b..16b + 16` of `lo` are
/// elements 0..16 of block `b`, those of `hi` elements 16..32, so i32 lane `4b + j` of a
/// `vpdpbusd` sums elements `4j..4j + 4` and `16 + 4j..16 + 4j + 4` of block `b`.
#[derive(Clone, Copy)]
#[repr(C, align(64))]
pub(super) struct NibbleGroup {
    pub lo: [i8; 64],
    pub hi: [i8; 64],
    /// `-off ·` the sum of the eight activation quants of each lane.
    pub bias: [i32; 16],
    /// `d` of each block (Q8_0), or `d, s` of each block in turn (Q8_1).
    pub ds: [f32; 16],
}

impl Default for NibbleGroup {
    fn default() -> Self {
        Self {
            lo: [0; 64],
            hi: [0; 64],
            bias: [0; 16],
            ds: [0.0; 16],
        }
    }
}

/// Four Q8_0 activation blocks for Q8_0 weights, in element order (two blocks per
/// vector).
#[derive(Clone, Copy)]
#[repr(C, align(64))]
pub(super) struct ByteGroup {
    pub q: [i8; 128],
    /// `-128 ·` the sum of the four activation quants of each i32 lane (the weights are
    /// biased to unsigned by 128).
    pub bias: [i32; 32],
    /// `d` of each block.
    pub d: [f32; 16],
}

impl Default for ByteGroup {
    fn default() -> Self {
        Self {
            q: [0; 128],
            bias: [0; 32],
            d: [0.0; 16],
        }
    }
}

thread_local! {
    /// The calling thread's prepared row for 4-bit weights.
    pub(super) static PREP_NIBBLE: Cell<Vec<NibbleGroup>> = const { Cell::new(Vec::new()) };
    /// The calling thread's prepared row for Q8_0 weights.
    pub(super) static PREP_BYTES: Cell<Vec<ByteGroup>> = const { Cell::new(Vec::new()) };
}

fn f16_bits(b: [u8; 2]) -> f32 {
    f16::from_le_bytes(b).to_f32()
}

fn sum(q: &[i8]) -> i32 {
    q.iter().map(|&v| i32::from(v)).sum()
}

/// Lays out one block's quants in group slot `b` of `g`, with lane biases for `off`.
fn nibble_block(g: &mut NibbleGroup, b: usize, qs: &[i8; 32], off: i32) {
    g.lo[16 * b..16 * b + 16].copy_from_slice(&qs[..16]);
    g.hi[16 * b..16 * b + 16].copy_from_slice(&qs[16..]);
    for j in 0..4 {
        let s = sum(&qs[4 * j..4 * j + 4]) + sum(&qs[16 + 4 * j..16 + 4 * j + 4]);
        g.bias[4 * b + j] = -off * s;
    }
}

/// Prepares a Q8_0 row for 4-bit weights with offset `off`.
pub(super) fn nibble_q8_0(act: &[BlockQ8_0], off: i32, groups: &mut [NibbleGroup]) {
    for (g, blocks) in groups.iter_mut().zip(act.chunks(4)) {
        *g = NibbleGroup::default();
        for (b, a) in blocks.iter().enumerate() {
            nibble_block(g, b, &a.qs, off);
            g.ds[b] = f16_bits(a.d);
        }
    }
}

/// Prepares a Q8_1 row for 4-bit weights with a min (`off` is 0 for them).
pub(super) fn nibble_q8_1(act: &[BlockQ8_1], off: i32, groups: &mut [NibbleGroup]) {
    for (g, blocks) in groups.iter_mut().zip(act.chunks(4)) {
        *g = NibbleGroup::default();
        for (b, a) in blocks.iter().enumerate() {
            nibble_block(g, b, &a.qs, off);
            g.ds[2 * b] = f16_bits(a.d);
            g.ds[2 * b + 1] = f16_bits(a.s);
        }
    }
}

/// Prepares a Q8_0 row for Q8_0 weights.
pub(super) fn bytes_q8_0(act: &[BlockQ8_0], groups: &mut [ByteGroup]) {
    for (g, blocks) in groups.iter_mut().zip(act.chunks(4)) {
        *g = ByteGroup::default();
        for (b, a) in blocks.iter().enumerate() {
            g.q[32 * b..32 * b + 32].copy_from_slice(&a.qs);
            for j in 0..8 {
                g.bias[8 * b + j] = -128 * sum(&a.qs[4 * j..4 * j + 4]);
            }
            g.d[b] = f16_bits(a.d);
        }
    }
}

//! Activation rows in the form the tile kernels read: quants contiguous, scales as f32.

use edge_formats::GgmlType;
use edge_quant::k_quants::BlockQ8K;
use edge_quant::legacy::{BlockQ8_0, BlockQ8_1};
use half::f16;

/// Prepared activation rows, borrowed: `n` rows of `nb` blocks. `q` holds the quants
/// (`n × nb·block`), `d` the scales (`n × nb`), `s` the stored sums `d·Σq` of Q8_1 blocks
/// (`n × nb`, empty otherwise) and `bsum` for Q8_K the sums of each 32-element group's
/// quants, from the blocks' stored 16-element sums (`n × nb·8`, empty otherwise).
/// `neg_sum` holds `-Σq` of each Q8_0 block (`n × nb`), `sum16` the sums of each
/// 16-element group of a Q8_K block computed from its quants (`n × nb·16`); both empty
/// for other types.
#[derive(Clone, Copy, Debug)]
// Only the x86-64 tiles read every part (`neg_sum`, `sum16`: AVX-512).
#[cfg_attr(not(target_arch = "x86_64"), allow(dead_code))]
pub(crate) struct Acts<'a> {
    pub q: &'a [i8],
    pub d: &'a [f32],
    pub s: &'a [f32],
    pub bsum: &'a [i16],
    pub neg_sum: &'a [i32],
    pub sum16: &'a [i16],
    pub nb: usize,
    pub n: usize,
}

/// The storage behind [`Acts`], kept between calls.
#[derive(Default, Debug)]
pub(crate) struct ActBuf {
    pub q: Vec<i8>,
    pub d: Vec<f32>,
    pub s: Vec<f32>,
    pub bsum: Vec<i16>,
    pub neg_sum: Vec<i32>,
    pub sum16: Vec<i16>,
}

/// Per-row lengths of the six parts of a prepared row of `nb` blocks of `act`.
pub(crate) fn row_lens(act: GgmlType, nb: usize) -> [usize; 6] {
    let block = act.block_size();
    match act {
        GgmlType::Q8_0 => [nb * block, nb, 0, 0, nb, 0],
        GgmlType::Q8_1 => [nb * block, nb, nb, 0, 0, 0],
        GgmlType::Q8_K => [nb * block, nb, 0, nb * 8, 0, nb * 16],
        _ => [nb * block, nb, 0, 0, 0, 0],
    }
}

/// One prepared row's six parts, writable.
pub(crate) struct RowMut<'a> {
    pub q: &'a mut [i8],
    pub d: &'a mut [f32],
    pub s: &'a mut [f32],
    pub bsum: &'a mut [i16],
    pub neg_sum: &'a mut [i32],
    pub sum16: &'a mut [i16],
}

impl ActBuf {
    /// Makes room for `n` rows of `nb` blocks of `act` (contents unspecified).
    pub fn resize(&mut self, act: GgmlType, nb: usize, n: usize) {
        let [q, d, s, b, ns, s16] = row_lens(act, nb).map(|l| l * n);
        self.q.resize(q, 0);
        self.d.resize(d, 0.0);
        self.s.resize(s, 0.0);
        self.bsum.resize(b, 0);
        self.neg_sum.resize(ns, 0);
        self.sum16.resize(s16, 0);
    }

    /// The first `n` rows, as [`Acts`].
    pub fn acts(&self, act: GgmlType, nb: usize, n: usize) -> Acts<'_> {
        let [q, d, s, b, ns, s16] = row_lens(act, nb).map(|l| l * n);
        Acts {
            q: &self.q[..q],
            d: &self.d[..d],
            s: &self.s[..s],
            bsum: &self.bsum[..b],
            neg_sum: &self.neg_sum[..ns],
            sum16: &self.sum16[..s16],
            nb,
            n,
        }
    }
}

fn f16_bits(b: [u8; 2]) -> f32 {
    f16::from_le_bytes(b).to_f32()
}

fn sum_i8(q: &[i8]) -> i32 {
    q.iter().map(|&v| i32::from(v)).sum()
}

/// Prepares one quantized activation row `raw` of `act` (Q8_0, Q8_1 or Q8_K) into its
/// six parts (each of [`row_lens`]); other types are left alone (they have no tiles).
pub(crate) fn prepare_row(act: GgmlType, raw: &[u8], row: RowMut<'_>) {
    let RowMut {
        q,
        d,
        s,
        bsum,
        neg_sum,
        sum16,
    } = row;
    match act {
        GgmlType::Q8_0 => {
            let blocks: &[BlockQ8_0] = bytemuck::cast_slice(raw);
            let it = blocks
                .iter()
                .zip(q.chunks_exact_mut(32))
                .zip(d)
                .zip(neg_sum);
            for (((b, q), d), ns) in it {
                q.copy_from_slice(bytemuck::cast_slice(&b.qs));
                *d = f16_bits(b.d);
                *ns = -sum_i8(q);
            }
        }
        GgmlType::Q8_1 => {
            let blocks: &[BlockQ8_1] = bytemuck::cast_slice(raw);
            for (((b, q), d), s) in blocks.iter().zip(q.chunks_exact_mut(32)).zip(d).zip(s) {
                q.copy_from_slice(&b.qs);
                *d = f16_bits(b.d);
                *s = f16_bits(b.s);
            }
        }
        GgmlType::Q8_K => {
            let blocks: &[BlockQ8K] = bytemuck::cast_slice(raw);
            let it = blocks
                .iter()
                .zip(q.chunks_exact_mut(256))
                .zip(d)
                .zip(bsum.chunks_exact_mut(8))
                .zip(sum16.chunks_exact_mut(16));
            for ((((b, q), d), bs), s16) in it {
                q.copy_from_slice(bytemuck::cast_slice(&b.qs));
                *d = b.d();
                for (g, v) in bs.iter_mut().enumerate() {
                    // Each |bsum| <= 16·128, so the pair fits an i16.
                    *v = b.bsum(2 * g).wrapping_add(b.bsum(2 * g + 1));
                }
                for (v, q) in s16.iter_mut().zip(q.chunks_exact(16)) {
                    // |Σ| <= 16·128 fits an i16.
                    *v = sum_i8(q) as i16;
                }
            }
        }
        _ => {}
    }
}

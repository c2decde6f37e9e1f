//! Activation rows in the form the tile kernels read: quants contiguous, scales as f32.

use edge_formats::GgmlType;
use edge_quant::k_quants::BlockQ8K;
use edge_quant::legacy::{BlockQ8_0, BlockQ8_1};
use half::f16;

/// Prepared activation rows, borrowed: `n` rows of `nb` blocks. `q` holds the quants
/// (`n × nb·block`), `d` the scales (`n × nb`), `s` the stored sums `d·Σq` of Q8_1 blocks
/// (`n × nb`, empty otherwise) and `bsum` for Q8_K the sums of each 32-element group's
/// quants (`n × nb·8`, empty otherwise).
#[derive(Clone, Copy, Debug)]
pub(crate) struct Acts<'a> {
    pub q: &'a [i8],
    pub d: &'a [f32],
    pub s: &'a [f32],
    pub bsum: &'a [i16],
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
}

/// Per-row lengths of the four parts of a prepared row of `nb` blocks of `act`.
pub(crate) fn row_lens(act: GgmlType, nb: usize) -> [usize; 4] {
    let block = act.block_size();
    match act {
        GgmlType::Q8_1 => [nb * block, nb, nb, 0],
        GgmlType::Q8_K => [nb * block, nb, 0, nb * 8],
        _ => [nb * block, nb, 0, 0],
    }
}

impl ActBuf {
    /// Makes room for `n` rows of `nb` blocks of `act` (contents unspecified).
    pub fn resize(&mut self, act: GgmlType, nb: usize, n: usize) {
        let [q, d, s, b] = row_lens(act, nb).map(|l| l * n);
        self.q.resize(q, 0);
        self.d.resize(d, 0.0);
        self.s.resize(s, 0.0);
        self.bsum.resize(b, 0);
    }

    /// The first `n` rows, as [`Acts`].
    pub fn acts(&self, act: GgmlType, nb: usize, n: usize) -> Acts<'_> {
        let [q, d, s, b] = row_lens(act, nb).map(|l| l * n);
        Acts {
            q: &self.q[..q],
            d: &self.d[..d],
            s: &self.s[..s],
            bsum: &self.bsum[..b],
            nb,
            n,
        }
    }
}

fn f16_bits(b: [u8; 2]) -> f32 {
    f16::from_le_bytes(b).to_f32()
}

/// Prepares one quantized activation row `raw` of `act` (Q8_0, Q8_1 or Q8_K) into its
/// four parts (each of [`row_lens`]); other types are left alone (they have no tiles).
pub(crate) fn prepare_row(
    act: GgmlType,
    raw: &[u8],
    q: &mut [i8],
    d: &mut [f32],
    s: &mut [f32],
    bsum: &mut [i16],
) {
    match act {
        GgmlType::Q8_0 => {
            let blocks: &[BlockQ8_0] = bytemuck::cast_slice(raw);
            for ((b, q), d) in blocks.iter().zip(q.chunks_exact_mut(32)).zip(d) {
                q.copy_from_slice(&b.qs);
                *d = f16_bits(b.d);
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
                .zip(bsum.chunks_exact_mut(8));
            for (((b, q), d), bs) in it {
                q.copy_from_slice(bytemuck::cast_slice(&b.qs));
                *d = b.d();
                for (g, v) in bs.iter_mut().enumerate() {
                    // Each |bsum| <= 16·128, so the pair fits an i16.
                    *v = b.bsum(2 * g).wrapping_add(b.bsum(2 * g + 1));
                }
            }
        }
        _ => {}
    }
}

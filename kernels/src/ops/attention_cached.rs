//! Single-query attention over a KV cache whose keys and values are each f16 or q8_0, as
//! llama.cpp's `--cache-type-k` / `--cache-type-v` choose.
//!
//! The arithmetic follows llama.cpp's CPU flash attention for one query row:
//!
//! - keys in f16: the query is rounded to f16 and each score is an f32 sum of f16·f16
//!   products; keys in q8_0: the query is quantized to q8_0 (the same quantizer as the
//!   weights' activations) and each score is the q8_0·q8_0 block dot product;
//! - values in f16: the weighted sum is kept in an f16 accumulator (see
//!   [`crate::ops::attend`]); values in q8_0: each value row is dequantized to f32 and the
//!   weighted sum kept in f32;
//! - the softmax is online: one pass over the positions, rescaling what was accumulated
//!   whenever a new maximum score appears.
//!
//! Each tier supplies the inner loops through [`AttendParts`]; this module holds their
//! scalar twins and the loop that strings them together.

use half::f16;

use edge_quant::legacy::BlockQ8_0;

use crate::cpu::KernelTable;
use crate::KernelError;

/// Elements per q8_0 block.
const QK: usize = 32;

/// The cached keys of one KV head, `n` positions of `head_dim` elements each.
#[derive(Clone, Copy, Debug)]
pub enum CachedKeys<'a> {
    /// f16, `n · head_dim` values.
    F16(&'a [f16]),
    /// q8_0, `n · head_dim / 32` blocks (each position a whole number of blocks).
    Q8_0(&'a [BlockQ8_0]),
}

/// The cached values of one KV head, laid out as [`CachedKeys`].
#[derive(Clone, Copy, Debug)]
pub enum CachedValues<'a> {
    /// f16, `n · head_dim` values.
    F16(&'a [f16]),
    /// q8_0, `n · head_dim / 32` blocks.
    Q8_0(&'a [BlockQ8_0]),
}

impl CachedKeys<'_> {
    fn positions(&self, d: usize) -> Result<usize, KernelError> {
        match self {
            CachedKeys::F16(k) => whole_rows("attention keys (f16)", k.len(), d),
            CachedKeys::Q8_0(k) => whole_rows("attention keys (q8_0)", k.len(), q8_row(d)?),
        }
    }
}

impl CachedValues<'_> {
    fn positions(&self, d: usize) -> Result<usize, KernelError> {
        match self {
            CachedValues::F16(v) => whole_rows("attention values (f16)", v.len(), d),
            CachedValues::Q8_0(v) => whole_rows("attention values (q8_0)", v.len(), q8_row(d)?),
        }
    }
}

/// Blocks per q8_0 row of `d` elements, or an error when `d` is not a multiple of 32.
fn q8_row(d: usize) -> Result<usize, KernelError> {
    if d.is_multiple_of(QK) {
        Ok(d / QK)
    } else {
        Err(KernelError::BadLength {
            what: "attention head width for a q8_0 cache (a multiple of 32)",
            expected: d.next_multiple_of(QK),
            found: d,
            unit: "elements",
        })
    }
}

/// `len / row`, when `len` is a positive multiple of `row`.
fn whole_rows(what: &'static str, len: usize, row: usize) -> Result<usize, KernelError> {
    if row == 0 || len == 0 || !len.is_multiple_of(row) {
        return Err(KernelError::BadLength {
            what,
            expected: row,
            found: len,
            unit: "elements or blocks (whole rows, at least one)",
        });
    }
    Ok(len / row)
}

/// Reusable buffers of [`KernelTable::attend_cached`]; keep one per thread.
#[derive(Debug, Default)]
pub struct AttendScratch {
    /// The query rounded to f16 precision (f16 keys).
    q16: Vec<f32>,
    /// The query quantized to q8_0 (q8_0 keys).
    q8: Vec<BlockQ8_0>,
    /// Accumulator for f16 values.
    acc16: Vec<f16>,
    /// Accumulator for q8_0 values.
    acc32: Vec<f32>,
    /// The scores of q8_0 keys, all computed in one pass over the keys.
    scores: Vec<f32>,
}

/// A tier's inner loops of single-query attention.
#[derive(Clone, Copy)]
pub(crate) struct AttendParts {
    /// `Σ q[i]·k[i]` in f32 over the shorter length.
    pub dot_f16: unsafe fn(&[f32], &[f16]) -> f32,
    /// `acc[i] = f16(acc[i]·s)`.
    pub scale_f16: unsafe fn(&mut [f16], f32),
    /// `acc[i] = f16(acc[i] + v[i]·w)`, the product and sum in f32.
    pub mad_f16: unsafe fn(&mut [f16], &[f16], f32),
    /// `acc[i] += (d·q[i])·w` over the elements of the blocks `v`; `acc` holds at least
    /// `32 · v.len()` values.
    pub mad_q8_0: unsafe fn(&mut [f32], &[BlockQ8_0], f32),
}

/// The scalar parts, the reference of every tier's.
pub(crate) const SCALAR_PARTS: AttendParts = AttendParts {
    dot_f16,
    scale_f16,
    mad_f16,
    mad_q8_0,
};

/// Scalar `Σ q[i]·k[i]`.
pub(crate) fn dot_f16(q: &[f32], k: &[f16]) -> f32 {
    k.iter().zip(q).map(|(k, &q)| k.to_f32() * q).sum()
}

/// Scalar `acc[i] = f16(acc[i]·s)`.
pub(crate) fn scale_f16(acc: &mut [f16], s: f32) {
    acc.iter_mut()
        .for_each(|a| *a = f16::from_f32(a.to_f32() * s));
}

/// Scalar `acc[i] = f16(acc[i] + v[i]·w)`.
pub(crate) fn mad_f16(acc: &mut [f16], v: &[f16], w: f32) {
    acc.iter_mut()
        .zip(v)
        .for_each(|(a, v)| *a = f16::from_f32(a.to_f32() + v.to_f32() * w));
}

/// Scalar `acc[i] += (d·q[i])·w`: the value dequantized to f32 first, as llama.cpp does.
pub(crate) fn mad_q8_0(acc: &mut [f32], v: &[BlockQ8_0], w: f32) {
    for (acc, b) in acc.chunks_exact_mut(QK).zip(v) {
        let d = f16::from_le_bytes(b.d).to_f32();
        for (a, &q) in acc.iter_mut().zip(&b.qs) {
            *a += (f32::from(q) * d) * w;
        }
    }
}

/// The online softmax over `n` positions: `score(p)` is position `p`'s scaled score,
/// `rescale(acc, s)` multiplies what was accumulated in `acc` by `s`, `add(acc, p, w)`
/// accumulates position `p`'s value with weight `w`. Returns the sum of the weights (the
/// softmax denominator under the final maximum).
#[inline(always)]
fn online_softmax<A: ?Sized>(
    n: usize,
    mut score: impl FnMut(usize) -> f32,
    acc: &mut A,
    mut rescale: impl FnMut(&mut A, f32),
    mut add: impl FnMut(&mut A, usize, f32),
) -> f32 {
    let (mut max, mut sum) = (f32::NEG_INFINITY, 0.0f32);
    for p in 0..n {
        let s = score(p);
        // A new maximum shrinks what came before and gives this position weight 1.
        let (shrink, weight) = if s > max {
            let old = max;
            max = s;
            ((old - max).exp(), 1.0)
        } else {
            (1.0, (s - max).exp())
        };
        if shrink != 1.0 {
            rescale(acc, shrink);
        }
        add(acc, p, weight);
        sum = sum * shrink + weight;
    }
    sum
}

impl KernelTable {
    /// One query head attending to the cached positions of its KV head:
    /// `out = softmax(scale · K·q) · V`, with keys and values each in f16 or q8_0 (see the
    /// module documentation for how each is rounded).
    ///
    /// `keys` and `values` hold the same number `n ≥ 1` of positions of `q.len()` elements;
    /// a q8_0 side needs `q.len()` to be a multiple of 32. Wrong lengths give
    /// [`KernelError::BadLength`].
    pub fn attend_cached(
        &self,
        q: &[f32],
        keys: CachedKeys<'_>,
        values: CachedValues<'_>,
        scale: f32,
        scratch: &mut AttendScratch,
        out: &mut [f32],
    ) -> Result<(), KernelError> {
        let d = q.len();
        super::check_len("attention output", d, out.len())?;
        let n = keys.positions(d)?;
        super::check_len(
            "attention value positions (as many as the keys')",
            n,
            values.positions(d)?,
        )?;
        let AttendScratch {
            q16,
            q8,
            acc16,
            acc32,
            scores,
        } = scratch;
        if let CachedKeys::F16(_) = keys {
            q16.clear();
            q16.extend(q.iter().map(|&x| f16::from_f32(x).to_f32()));
        }
        if let (CachedKeys::F16(k), CachedValues::F16(v)) = (keys, values) {
            acc16.clear();
            acc16.resize(d, f16::ZERO);
            return self.attend(q16, k, v, scale, acc16, out);
        }
        if let CachedKeys::Q8_0(k) = keys {
            q8.clear();
            q8.resize(d / QK, bytemuck::Zeroable::zeroed());
            // SAFETY: the table's tier was checked against this CPU (`for_tier`), and
            // `q8` holds exactly `d / 32` blocks for the `d` values of `q`.
            unsafe { (self.quantize_row_q8_0)(q, q8) };
            scores.clear();
            scores.resize(n, 0.0);
            // SAFETY: as above; `k` holds `n` rows of `d / 32` blocks (checked by
            // `positions`), `scores` one value per row.
            unsafe { self.dot_rows_q8_0(&k[..n * (d / QK)], q8, scores) };
        }
        let parts = self.attend_parts;
        let q16 = &*q16;
        let nb = d / QK;
        // SAFETY (every `unsafe` call below): the tier was checked against this CPU, and
        // the slices passed are whole rows of the lengths checked above.
        let score = |p: usize| -> f32 {
            scale
                * match keys {
                    // SAFETY: see above.
                    CachedKeys::F16(k) => unsafe { (parts.dot_f16)(q16, &k[p * d..(p + 1) * d]) },
                    CachedKeys::Q8_0(_) => scores[p],
                }
        };
        match values {
            CachedValues::F16(v) => {
                acc16.clear();
                acc16.resize(d, f16::ZERO);
                let sum = online_softmax(
                    n,
                    score,
                    acc16.as_mut_slice(),
                    // SAFETY: see above.
                    |acc, s| unsafe { (parts.scale_f16)(acc, s) },
                    // SAFETY: see above.
                    |acc, p, w| unsafe { (parts.mad_f16)(acc, &v[p * d..(p + 1) * d], w) },
                );
                out.iter_mut()
                    .zip(acc16.iter())
                    .for_each(|(o, a)| *o = a.to_f32() / sum);
            }
            CachedValues::Q8_0(v) => {
                acc32.clear();
                acc32.resize(d, 0.0);
                let sum = online_softmax(
                    n,
                    score,
                    acc32.as_mut_slice(),
                    |acc, s| acc.iter_mut().for_each(|a| *a *= s),
                    // SAFETY: see above.
                    |acc, p, w| unsafe { (parts.mad_q8_0)(acc, &v[p * nb..(p + 1) * nb], w) },
                );
                let inv = 1.0 / sum;
                out.iter_mut()
                    .zip(acc32.iter())
                    .for_each(|(o, a)| *o = a * inv);
            }
        }
        Ok(())
    }
}

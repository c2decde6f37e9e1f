//! Tiled attention for a block of query rows that share one KV head (prompt processing).
//!
//! Where [`crate::ops::attend`] attends one query at a time with an f16 accumulator (the
//! decode path), [`attend_tile`] takes many rows at once — several positions times the
//! query heads of one GQA group — so each tile of cached keys and values is widened to
//! f32 once and used by every row. Everything is f32: the query is not rounded to f16,
//! the value accumulator is f32, and the softmax is online at tile granularity:
//!
//! 1. keys are taken [`TILE_KV`] positions at a time, rows [`TILE_ROWS`] at a time;
//! 2. `s = scale · q·k` for every (row, key) of the tile, `-inf` where the key is outside
//!    the row's span;
//! 3. per row, `m' = max(m, max s)`; the accumulator and the running sum are multiplied
//!    by `exp(m − m')`, then `p = exp(s − m')` is added to the sum and `p·v` to the
//!    accumulator;
//! 4. at the end, `out = acc / sum`.
//!
//! This is the arithmetic of llama.cpp's tiled CPU flash attention for an f16 cache.
//! The exponential is [`exp`], a polynomial that the SIMD tiers evaluate lane-wise with
//! the same operations, and every sum runs in the same order with fused multiply-adds in
//! every tier, so the tiers agree with this scalar twin to the last bit on finite inputs.

use std::ops::Range;

use crate::KernelError;
use half::f16;

/// Cached positions per key/value tile.
pub const TILE_KV: usize = 64;

/// Query rows processed together against one key tile (the lanes of the score tile).
pub const TILE_ROWS: usize = 16;

/// The `f32` scratch [`attend_tile`] needs for `rows` query rows of `head_dim` elements
/// (`usize::MAX` if that overflows).
pub fn attend_tile_scratch_len(rows: usize, head_dim: usize) -> usize {
    let padded = rows.div_ceil(TILE_ROWS).saturating_mul(TILE_ROWS);
    // Transposed queries and accumulators, running maxima and sums, one tile's factors
    // and scores, one key tile and one value tile.
    padded
        .saturating_mul(head_dim)
        .saturating_mul(2)
        .saturating_add(padded.saturating_mul(2))
        .saturating_add(TILE_ROWS * (TILE_KV + 1))
        .saturating_add(TILE_KV.saturating_mul(head_dim).saturating_mul(2))
}

/// Attention of a block of query rows over one KV head's cached keys and values.
///
/// - `q`: `rows × head_dim` queries, row after row (`rows = spans.len()`, so
///   `head_dim = q.len() / rows`), scaled however the architecture wants (Q is used in
///   f32 as it is);
/// - `spans[r]`: the cached positions row `r` sees, as indices into `keys`' rows (for a
///   causal row at position `p` with the cache starting at 0: `first(p)..p + 1`); each
///   must be non-empty and within the cache;
/// - `keys`, `values`: `n_pos × head_dim` f16 each, position after position (one KV
///   head's cache, as the KV cache hands it out);
/// - `scale`: multiplies every query·key product;
/// - `scratch`: at least [`attend_tile_scratch_len`]`(rows, head_dim)` elements;
/// - `out`: `rows × head_dim`, `out[r] = softmax(scale · K[span]·q[r]) · V[span]`.
pub fn attend_tile(
    q: &[f32],
    spans: &[Range<usize>],
    keys: &[f16],
    values: &[f16],
    scale: f32,
    scratch: &mut [f32],
    out: &mut [f32],
) -> Result<(), KernelError> {
    check_attend_tile(q, spans, keys, values, scratch, out)?;
    attend_tile_unchecked(q, spans, keys, values, scale, scratch, out);
    Ok(())
}

/// The checks of [`attend_tile`], shared by every tier's version of it.
pub(crate) fn check_attend_tile(
    q: &[f32],
    spans: &[Range<usize>],
    keys: &[f16],
    values: &[f16],
    scratch: &[f32],
    out: &[f32],
) -> Result<(), KernelError> {
    let bad = |what, expected, found| {
        Err(KernelError::BadLength {
            what,
            expected,
            found,
            unit: "elements",
        })
    };
    let rows = spans.len();
    if rows == 0 || q.is_empty() || !q.len().is_multiple_of(rows) {
        return bad(
            "tiled attention queries (a non-empty whole row per span)",
            rows.max(1),
            q.len(),
        );
    }
    let d = q.len() / rows;
    if out.len() != q.len() {
        return bad("tiled attention output", q.len(), out.len());
    }
    if keys.is_empty() || !keys.len().is_multiple_of(d) {
        return bad(
            "tiled attention keys (whole rows of the head dimension, at least one)",
            d,
            keys.len(),
        );
    }
    if values.len() != keys.len() {
        return bad("tiled attention values", keys.len(), values.len());
    }
    let n_pos = keys.len() / d;
    if let Some(s) = spans.iter().find(|s| s.start >= s.end || s.end > n_pos) {
        return bad(
            "tiled attention span end (a non-empty span within the cached positions)",
            n_pos,
            s.end,
        );
    }
    let need = attend_tile_scratch_len(rows, d);
    if scratch.len() < need {
        return bad("tiled attention scratch", need, scratch.len());
    }
    Ok(())
}

/// The scalar twin of the SIMD versions: [`attend_tile`] after its checks.
pub(crate) fn attend_tile_unchecked(
    q: &[f32],
    spans: &[Range<usize>],
    keys: &[f16],
    values: &[f16],
    scale: f32,
    scratch: &mut [f32],
    out: &mut [f32],
) {
    tiled_attend(
        q,
        spans,
        keys,
        values,
        scale,
        scratch,
        out,
        TileOps {
            widen: |src: &[f16], dst: &mut [f32]| {
                dst.iter_mut().zip(src).for_each(|(d, s)| *d = s.to_f32())
            },
            scores,
            softmax,
            accumulate,
        },
    );
}

/// `st[j][r] = scale · Σ_i k[j][i]·qt[i][r]` for every key `j` of the tile, the sum a
/// chain of fused multiply-adds in `i` order (`qt` is `d × TILE_ROWS`, `k` is
/// `tn × d`, `st` is `tn × TILE_ROWS`).
fn scores(qt: &[f32], k: &[f32], scale: f32, st: &mut [f32]) {
    let d = qt.len() / TILE_ROWS;
    for (kj, sj) in k.chunks_exact(d).zip(st.chunks_exact_mut(TILE_ROWS)) {
        for (r, s) in sj.iter_mut().enumerate() {
            let dot = kj
                .iter()
                .zip(qt.chunks_exact(TILE_ROWS))
                .fold(0.0f32, |acc, (&k, qi)| k.mul_add(qi[r], acc));
            *s = dot * scale;
        }
    }
}

/// The online-softmax step of one tile for each row `r` (`st` is `tn × TILE_ROWS`
/// scores; `-inf` marks a key the row does not see): the new maximum `m'`, the factor
/// `exp(m − m')` that rescales what was accumulated, `st ← exp(st − m')`, and
/// `l ← l·factor + Σ_j st[j][r]` (the sum in `j` order).
///
/// A row that has seen no key yet keeps `m = -inf`; it is treated as if `m' = 0`, so its
/// factor and weights are 0 rather than NaN.
fn softmax(st: &mut [f32], m: &mut [f32], l: &mut [f32], factor: &mut [f32]) {
    for r in 0..TILE_ROWS {
        let m_new = st
            .chunks_exact(TILE_ROWS)
            .fold(m[r], |mx, sj| max(sj[r], mx));
        let safe = if m_new == f32::NEG_INFINITY {
            0.0
        } else {
            m_new
        };
        factor[r] = exp(m[r] - safe);
        let mut sum = 0.0f32;
        for sj in st.chunks_exact_mut(TILE_ROWS) {
            sj[r] = exp(sj[r] - safe);
            sum += sj[r];
        }
        l[r] = l[r] * factor[r] + sum;
        m[r] = m_new;
    }
}

/// `acc[r] ← acc[r]·factor[r] + Σ_j p[j][r]·v[j]` (`p` is `tn × TILE_ROWS`, `v` is
/// `tn × d`, `acc` is `TILE_ROWS × d`), each element a chain of fused multiply-adds in
/// `j` order after the rescaling multiply.
fn accumulate(p: &[f32], v: &[f32], factor: &[f32], acc: &mut [f32]) {
    let d = acc.len() / TILE_ROWS;
    for (r, ar) in acc.chunks_exact_mut(d).enumerate() {
        ar.iter_mut().for_each(|a| *a *= factor[r]);
        for (pj, vj) in p.chunks_exact(TILE_ROWS).zip(v.chunks_exact(d)) {
            let w = pj[r];
            ar.iter_mut()
                .zip(vj)
                .for_each(|(a, &v)| *a = w.mul_add(v, *a));
        }
    }
}

/// `a` if `a > b`, else `b` (the semantics of the x86 `max` instructions, which the SIMD
/// tiers use).
#[inline(always)]
pub(crate) fn max(a: f32, b: f32) -> f32 {
    if a > b {
        a
    } else {
        b
    }
}

/// Constants of [`exp`], shared with the SIMD tiers.
pub(crate) mod exp_consts {
    /// Below this, `exp` returns 0 (the true value is under 2.7e-38).
    pub(crate) const LO: f32 = -86.5;
    /// Above this, `exp` returns `exp(HI)`.
    pub(crate) const HI: f32 = 88.0;
    /// 1.5 · 2²³: adding it rounds a float of magnitude below 2²² to an integer.
    pub(crate) const ROUND: f32 = 12_582_912.0;
    /// `ln 2` split in two so that `n · LN2_HI` is exact for the `n` that occur.
    pub(crate) const LN2_HI: f32 = 0.693_359_4;
    pub(crate) const LN2_LO: f32 = -2.121_944_4e-4;
    /// Coefficients of the polynomial `p` with `exp(r) ≈ 1 + r + r²·p(r)` on
    /// `|r| ≤ ln2 / 2`, highest degree first.
    pub(crate) const P: [f32; 6] = [
        1.987_569_1e-4,
        1.398_2e-3,
        8.333_452e-3,
        4.166_579_6e-2,
        0.166_666_65,
        0.5,
    ];
}

/// `e^x` in f32 to about two ulp: `x = n·ln2 + r`, `e^x = 2ⁿ·(1 + r + r²·p(r))`, with 0
/// below [`exp_consts::LO`] and the input capped at [`exp_consts::HI`]. The SIMD tiers
/// evaluate exactly these operations lane-wise.
#[inline(always)]
pub(crate) fn exp(x: f32) -> f32 {
    use exp_consts::*;
    let zero = x < LO;
    let x = max(x, LO);
    let x = if x < HI { x } else { HI };
    let t = x.mul_add(std::f32::consts::LOG2_E, ROUND);
    let n = t - ROUND;
    let r = n.mul_add(-LN2_HI, x);
    let r = n.mul_add(-LN2_LO, r);
    let p = P[1..].iter().fold(P[0], |p, &c| p.mul_add(r, c));
    let y = p.mul_add(r * r, r) + 1.0;
    // `t` and `ROUND` share their exponent, so the difference of their bits is `n`.
    let k = (t.to_bits() as i32).wrapping_sub(ROUND.to_bits() as i32);
    let e = f32::from_bits((y.to_bits() as i32).wrapping_add(k << 23) as u32);
    if zero {
        0.0
    } else {
        e
    }
}

/// The inner loops of [`tiled_attend`], each supplied by a tier:
///
/// - `widen(src, dst)`: f16 → f32, element by element;
/// - `scores(qt, k, scale, st)`: as the scalar `scores` of this module;
/// - `softmax(st, m, l, factor)`: as the scalar `softmax`;
/// - `accumulate(p, v, factor, acc)`: as the scalar `accumulate`.
pub(crate) struct TileOps<W, S, X, A> {
    pub widen: W,
    pub scores: S,
    pub softmax: X,
    pub accumulate: A,
}

/// The tile loop of [`attend_tile`] (arguments already checked), with the inner loops
/// supplied by the caller so that each tier inlines its own.
#[inline(always)]
#[allow(clippy::too_many_arguments)]
pub(crate) fn tiled_attend<W, S, X, A>(
    q: &[f32],
    spans: &[Range<usize>],
    keys: &[f16],
    values: &[f16],
    scale: f32,
    scratch: &mut [f32],
    out: &mut [f32],
    ops: TileOps<W, S, X, A>,
) where
    W: Fn(&[f16], &mut [f32]),
    S: Fn(&[f32], &[f32], f32, &mut [f32]),
    X: Fn(&mut [f32], &mut [f32], &mut [f32], &mut [f32]),
    A: Fn(&[f32], &[f32], &[f32], &mut [f32]),
{
    const RT: usize = TILE_ROWS;
    let rows = spans.len();
    let d = q.len() / rows;
    let padded = rows.div_ceil(RT) * RT;
    let (qt, rest) = scratch.split_at_mut(padded * d);
    let (acc, rest) = rest.split_at_mut(padded * d);
    let (m, rest) = rest.split_at_mut(padded);
    let (l, rest) = rest.split_at_mut(padded);
    let (factor, rest) = rest.split_at_mut(RT);
    let (st, rest) = rest.split_at_mut(TILE_KV * RT);
    let (kt, rest) = rest.split_at_mut(TILE_KV * d);
    let vt = &mut rest[..TILE_KV * d];

    // Queries transposed per row tile (`d × RT`, zeros for the padding rows).
    for (t, qt) in qt.chunks_exact_mut(d * RT).enumerate() {
        qt.fill(0.0);
        for (r, qr) in q.chunks_exact(d).skip(t * RT).take(RT).enumerate() {
            for (i, &x) in qr.iter().enumerate() {
                qt[i * RT + r] = x;
            }
        }
    }
    acc.fill(0.0);
    m.fill(f32::NEG_INFINITY);
    l.fill(0.0);

    let lo = spans.iter().map(|s| s.start).min().unwrap_or(0);
    let hi = spans.iter().map(|s| s.end).max().unwrap_or(0);
    let mut t0 = lo;
    while t0 < hi {
        let tn = TILE_KV.min(hi - t0);
        let tile = t0..t0 + tn;
        let mut widened = false;
        for (rt, row_spans) in spans.chunks(RT).enumerate() {
            // The keys of the tile each row sees, relative to the tile.
            let seen = |s: &Range<usize>| s.start.max(tile.start)..s.end.min(tile.end);
            if row_spans.iter().all(|s| seen(s).is_empty()) {
                continue;
            }
            if !widened {
                (ops.widen)(&keys[t0 * d..(t0 + tn) * d], &mut kt[..tn * d]);
                (ops.widen)(&values[t0 * d..(t0 + tn) * d], &mut vt[..tn * d]);
                widened = true;
            }
            let st = &mut st[..tn * RT];
            (ops.scores)(
                &qt[rt * d * RT..(rt + 1) * d * RT],
                &kt[..tn * d],
                scale,
                st,
            );
            for r in 0..RT {
                let s = row_spans.get(r).map_or(0..0, seen);
                if s.start == tile.start && s.end == tile.end {
                    continue;
                }
                for (j, sj) in st.chunks_exact_mut(RT).enumerate() {
                    if !s.contains(&(t0 + j)) {
                        sj[r] = f32::NEG_INFINITY;
                    }
                }
            }
            let rows = rt * RT..(rt + 1) * RT;
            (ops.softmax)(st, &mut m[rows.clone()], &mut l[rows], factor);
            (ops.accumulate)(
                st,
                &vt[..tn * d],
                factor,
                &mut acc[rt * RT * d..(rt + 1) * RT * d],
            );
        }
        t0 += tn;
    }

    for ((o, a), &l) in out.chunks_exact_mut(d).zip(acc.chunks_exact(d)).zip(&*l) {
        o.iter_mut().zip(a).for_each(|(o, &a)| *o = a / l);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exp_is_close_to_std() {
        // From just above the cut-off to just below the cap.
        for i in -1950..=1980 {
            let x = i as f32 * 0.0443;
            let (got, want) = (exp(x), (x as f64).exp());
            let rel = ((got as f64 - want) / want).abs();
            assert!(rel < 3e-7, "exp({x}) = {got}, want {want}");
        }
        assert_eq!(exp(0.0), 1.0);
        assert_eq!(exp(f32::NEG_INFINITY), 0.0);
        assert_eq!(exp(-100.0), 0.0);
        assert!(exp(200.0).is_finite());
    }

    #[test]
    fn one_position_returns_its_value() {
        let (d, rows) = (3, 2);
        let keys = [f16::ONE; 6];
        let values: Vec<f16> = [1.0, 2.0, 3.0, 4.0, 5.0, 6.0]
            .iter()
            .map(|&x| f16::from_f32(x))
            .collect();
        let q = [0.5f32; 6];
        let mut scratch = vec![0.0; attend_tile_scratch_len(rows, d)];
        let mut out = [0.0; 6];
        attend_tile(
            &q,
            &[0..1, 1..2],
            &keys,
            &values,
            1.0,
            &mut scratch,
            &mut out,
        )
        .unwrap();
        assert_eq!(out, [1.0, 2.0, 3.0, 4.0, 5.0, 6.0]);
        assert!(attend_tile(
            &q,
            &[0..1, 1..1],
            &keys,
            &values,
            1.0,
            &mut scratch,
            &mut out
        )
        .is_err());
        assert!(attend_tile(
            &q,
            &[0..1, 1..3],
            &keys,
            &values,
            1.0,
            &mut scratch,
            &mut out
        )
        .is_err());
    }
}

//! Tiled attention ([`KernelTable::attend_tile`]): every SIMD tier matches the scalar
//! twin ([`edge_kernels::ops::attend_tile`]), and the scalar twin matches a plain f64
//! two-pass softmax (max, then `Σ exp(s − max)`, then the weighted sum of values)
//! computed here from the definition.
//!
//! All tiers evaluate each element with the same f32 operations in the same order, so
//! they are held to 1e-6 relative (they are in fact bit-identical on finite inputs).

mod common;

use std::ops::Range;

use common::*;
use edge_kernels::ops::{attend_tile, attend_tile_scratch_len};
use edge_kernels::KernelTable;
use half::f16;
use proptest::prelude::*;

struct Case {
    d: usize,
    q: Vec<f32>,
    spans: Vec<Range<usize>>,
    keys: Vec<f16>,
    values: Vec<f16>,
    scale: f32,
}

impl std::fmt::Debug for Case {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "Case {{ d: {}, rows: {}, n_pos: {}, scale: {}, spans: {:?} }}",
            self.d,
            self.spans.len(),
            self.keys.len() / self.d,
            self.scale,
            self.spans
        )
    }
}

/// Rows laid out as in prompt processing: `positions` consecutive positions (the first
/// at `first`) × `group` query heads, position-major; the row at position `p` sees
/// `max(0, p + 1 − window)..p + 1`.
fn causal_spans(
    first: usize,
    positions: usize,
    group: usize,
    window: Option<usize>,
) -> Vec<Range<usize>> {
    (first..first + positions)
        .flat_map(|p| {
            let lo = window.map_or(0, |w| (p + 1).saturating_sub(w));
            std::iter::repeat_n(lo..p + 1, group)
        })
        .collect()
}

/// A case: `d` in {64, 128, 256} or small and odd, 1..=24 positions × 1..=5 heads after
/// 0..=150 earlier positions, full or sliding-window attention (windows down to 1), or
/// arbitrary spans; `elem` draws query and key elements.
fn case(elem: fn() -> BoxedStrategy<f32>) -> impl Strategy<Value = Case> {
    let d = prop_oneof![
        Just(64usize),
        Just(128),
        Just(256),
        (0usize..8).prop_map(|i| 2 * i + 1),
    ];
    let window = prop_oneof![Just(None), (1usize..=80).prop_map(Some)];
    (
        d,
        0usize..=150,
        1usize..=24,
        1usize..=5,
        window,
        any::<bool>(),
    )
        .prop_flat_map(move |(d, first, positions, group, window, arbitrary)| {
            let n_pos = first + positions;
            let rows = positions * group;
            let spans = if arbitrary {
                prop::collection::vec(
                    (0..n_pos, 1..=n_pos).prop_map(move |(a, len)| a..(a + len).min(n_pos)),
                    rows,
                )
                .boxed()
            } else {
                Just(causal_spans(first, positions, group, window)).boxed()
            };
            (
                Just(d),
                prop::collection::vec(elem(), rows * d),
                spans,
                prop::collection::vec(elem(), n_pos * d),
                prop::collection::vec(-8.0f32..8.0, n_pos * d),
                0.02f32..1.0,
            )
        })
        .prop_map(|(d, q, spans, k, v, scale)| Case {
            d,
            q,
            spans,
            keys: k.into_iter().map(f16::from_f32).collect(),
            values: v.into_iter().map(f16::from_f32).collect(),
            scale,
        })
}

fn any_elem() -> BoxedStrategy<f32> {
    (-2.0f32..2.0).boxed()
}

/// Large scores (up to ±800 before scaling): the softmax is near one-hot and the
/// running maximum jumps between tiles.
fn wide_elem() -> BoxedStrategy<f32> {
    (-20.0f32..20.0).boxed()
}

fn run(t: &KernelTable, c: &Case) -> Vec<f32> {
    let mut scratch = vec![f32::NAN; attend_tile_scratch_len(c.spans.len(), c.d)];
    let mut out = vec![0.0; c.q.len()];
    t.attend_tile(
        &c.q,
        &c.spans,
        &c.keys,
        &c.values,
        c.scale,
        &mut scratch,
        &mut out,
    )
    .unwrap();
    out
}

fn scalar(c: &Case) -> Vec<f32> {
    let mut scratch = vec![f32::NAN; attend_tile_scratch_len(c.spans.len(), c.d)];
    let mut out = vec![0.0; c.q.len()];
    attend_tile(
        &c.q,
        &c.spans,
        &c.keys,
        &c.values,
        c.scale,
        &mut scratch,
        &mut out,
    )
    .unwrap();
    out
}

/// The f64 two-pass softmax attention of every row, and for each output element the
/// tolerance of an f32 computation of it: the f32 scores are off by up to
/// `ε_s = 2e-6 · scale · Σ_i |q_i·k_i|` (about 32 ulp of the sum of magnitudes of the
/// products), which moves the weights by up to `2·max ε_s` relative, on top of a few
/// 1e-6 for the exponential, the weighted sum and the division — all relative to
/// `Σ_p w_p·|v[p][j]|`, the magnitude of the terms of the output.
fn reference(c: &Case) -> Vec<(f64, f64)> {
    let d = c.d;
    let mut res = Vec::with_capacity(c.q.len());
    for (q, span) in c.q.chunks(d).zip(&c.spans) {
        let products = |p: usize| {
            let k = &c.keys[p * d..(p + 1) * d];
            k.iter().zip(q).map(|(k, &q)| k.to_f64() * q as f64)
        };
        let scores: Vec<f64> = span
            .clone()
            .map(|p| c.scale as f64 * products(p).sum::<f64>())
            .collect();
        let score_err = span
            .clone()
            .map(|p| 2e-6 * c.scale as f64 * products(p).map(f64::abs).sum::<f64>())
            .fold(0.0, f64::max);
        let rel = 2e-5 + 2.0 * score_err;
        let max = scores.iter().cloned().fold(f64::NEG_INFINITY, f64::max);
        let w: Vec<f64> = scores.iter().map(|s| (s - max).exp()).collect();
        let total: f64 = w.iter().sum();
        for j in 0..d {
            let (mut out, mut mag) = (0.0, 0.0);
            for (p, w) in span.clone().zip(&w) {
                let v = c.values[p * d + j].to_f64();
                out += w / total * v;
                mag += w / total * v.abs();
            }
            res.push((out, rel * mag + 1e-6));
        }
    }
    res
}

fn tiers_match_scalar(c: &Case) -> Result<(), TestCaseError> {
    let want = scalar(c);
    for t in available_tables() {
        let got = run(t, c);
        for (i, (g, w)) in got.iter().zip(&want).enumerate() {
            let tol = 1e-6 * w.abs().max(1.0);
            prop_assert!(
                (g - w).abs() <= tol,
                "{} [row {}, {}]: {} vs {}",
                t.tier(),
                i / c.d,
                i % c.d,
                g,
                w
            );
        }
    }
    Ok(())
}

proptest! {
    #![proptest_config(config(96))]

    #[test]
    fn every_tier_matches_scalar(c in case(any_elem)) {
        tiers_match_scalar(&c)?;
    }

    #[test]
    fn every_tier_matches_scalar_on_peaked_scores(c in case(wide_elem)) {
        tiers_match_scalar(&c)?;
    }

    #[test]
    fn scalar_matches_f64_two_pass_softmax(c in case(any_elem)) {
        let got = scalar(&c);
        for (i, (g, (want, tol))) in got.iter().zip(reference(&c)).enumerate() {
            prop_assert!(
                (*g as f64 - want).abs() <= tol,
                "[row {}, {}]: {} vs {} (tolerance {})", i / c.d, i % c.d, g, want, tol
            );
        }
    }
}

#[test]
fn bad_lengths_are_errors() {
    let d = 4;
    let keys = vec![f16::ONE; 3 * d];
    let q = vec![0.5f32; 2 * d];
    let spans = [0..1, 0..3];
    let mut scratch = vec![0.0; attend_tile_scratch_len(2, d)];
    let mut out = vec![0.0; 2 * d];
    for t in available_tables() {
        let call = |q: &[f32],
                    spans: &[Range<usize>],
                    keys: &[f16],
                    values: &[f16],
                    scratch: &mut [f32],
                    out: &mut [f32]| {
            t.attend_tile(q, spans, keys, values, 1.0, scratch, out)
        };
        assert!(call(&q, &spans, &keys, &keys, &mut scratch, &mut out).is_ok());
        // Queries not a whole number of rows, no rows, no queries.
        assert!(call(&q[..7], &spans, &keys, &keys, &mut scratch, &mut out).is_err());
        assert!(call(&q, &[], &keys, &keys, &mut scratch, &mut out).is_err());
        assert!(call(&[], &spans, &keys, &keys, &mut scratch, &mut out).is_err());
        // Keys not whole rows, no keys, values of another length.
        assert!(call(&q, &spans, &keys[..11], &keys[..11], &mut scratch, &mut out).is_err());
        assert!(call(&q, &spans, &[], &[], &mut scratch, &mut out).is_err());
        assert!(call(&q, &spans, &keys, &keys[..8], &mut scratch, &mut out).is_err());
        // Empty span, span past the cache.
        assert!(call(&q, &[0..1, 2..2], &keys, &keys, &mut scratch, &mut out).is_err());
        assert!(call(&q, &[0..1, 1..4], &keys, &keys, &mut scratch, &mut out).is_err());
        // Short scratch, wrong output length.
        let short = scratch.len() - 1;
        assert!(call(&q, &spans, &keys, &keys, &mut scratch[..short], &mut out).is_err());
        assert!(call(&q, &spans, &keys, &keys, &mut scratch, &mut out[..7]).is_err());
    }
}

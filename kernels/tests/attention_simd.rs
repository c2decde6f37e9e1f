//! Every SIMD tier's attention ([`KernelTable::attend`]) agrees with the scalar twin
//! ([`edge_kernels::ops::attend`]).
//!
//! The tiers differ only in the order of the f32 additions of each query·key product; the
//! f16 value accumulation rounds identically. So when every q·k sum is exact in f32
//! (dyadic inputs on a coarse grid) the outputs must be bit-identical, and on arbitrary
//! inputs they must agree within a tolerance relative to `Σ_p w_p·|v[p][j]|`, the sum of
//! the magnitudes of the terms of output `j` (plus a little for f16 rounding steps that
//! a last-bit change of a score can flip).

mod common;

use common::*;
use edge_kernels::{ops, KernelTable};
use half::f16;
use proptest::prelude::*;

struct Case {
    d: usize,
    q: Vec<f32>,
    keys: Vec<f16>,
    values: Vec<f16>,
    scale: f32,
}

impl std::fmt::Debug for Case {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "Case {{ d: {}, n: {}, scale: {} }}",
            self.d,
            self.keys.len() / self.d,
            self.scale
        )
    }
}

/// A case with `d` in 1..=160 (every tail length of the 8- and 16-wide loops) and 1..=48
/// cached positions; `elem` draws query and key elements.
fn case(
    elem: fn() -> BoxedStrategy<f32>,
    scale: BoxedStrategy<f32>,
) -> impl Strategy<Value = Case> {
    (1usize..=160, 1usize..=48, scale).prop_flat_map(move |(d, n, scale)| {
        (
            prop::collection::vec(elem(), d),
            prop::collection::vec(elem(), n * d),
            prop::collection::vec(-8.0f32..8.0, n * d),
        )
            .prop_map(move |(q, k, v)| Case {
                d,
                q,
                keys: k.into_iter().map(f16::from_f32).collect(),
                values: v.into_iter().map(f16::from_f32).collect(),
                scale,
            })
    })
}

fn any_elem() -> BoxedStrategy<f32> {
    (-2.0f32..2.0).boxed()
}

/// Multiples of 1/8 in [-4, 4]: every product is a multiple of 1/64 below 16, so any sum
/// of up to 160 of them is exact in f32, whatever the order.
fn grid_elem() -> BoxedStrategy<f32> {
    (-32i32..=32).prop_map(|i| i as f32 / 8.0).boxed()
}

fn run(t: &KernelTable, c: &Case) -> Vec<f32> {
    let (mut acc, mut out) = (vec![f16::ZERO; c.d], vec![0.0; c.d]);
    t.attend(&c.q, &c.keys, &c.values, c.scale, &mut acc, &mut out)
        .unwrap();
    out
}

fn scalar(c: &Case) -> Vec<f32> {
    let (mut acc, mut out) = (vec![f16::ZERO; c.d], vec![0.0; c.d]);
    ops::attend(&c.q, &c.keys, &c.values, c.scale, &mut acc, &mut out).unwrap();
    out
}

/// For each output element: `Σ_p w_p·|v[p][j]|` with the exact (f64) softmax weights, and
/// `max_p |v[p][j]|`.
fn magnitudes(c: &Case) -> Vec<(f64, f64)> {
    let scores: Vec<f64> = c
        .keys
        .chunks(c.d)
        .map(|k| {
            c.scale as f64
                * k.iter()
                    .zip(&c.q)
                    .map(|(k, &q)| k.to_f64() * q as f64)
                    .sum::<f64>()
        })
        .collect();
    let max = scores.iter().cloned().fold(f64::NEG_INFINITY, f64::max);
    let w: Vec<f64> = scores.iter().map(|s| (s - max).exp()).collect();
    let total: f64 = w.iter().sum();
    (0..c.d)
        .map(|j| {
            let rows = c.values.chunks(c.d).map(|v| v[j].to_f64().abs());
            let sum = rows.clone().zip(&w).map(|(v, w)| v * w / total).sum();
            (sum, rows.fold(0.0, f64::max))
        })
        .collect()
}

proptest! {
    #![proptest_config(config(256))]

    #[test]
    fn bit_identical_when_dots_are_exact(c in case(grid_elem, (1u32..=8).prop_map(|s| 1.0 / s as f32).boxed())) {
        let want = scalar(&c);
        for t in available_tables() {
            let got = run(t, &c);
            for (j, (g, w)) in got.iter().zip(&want).enumerate() {
                prop_assert_eq!(g.to_bits(), w.to_bits(), "{} [{}]: {} vs {}", t.tier(), j, g, w);
            }
        }
    }

    #[test]
    fn close_on_any_input(c in case(any_elem, (0.01f32..2.0).boxed())) {
        let want = scalar(&c);
        let mags = magnitudes(&c);
        for t in available_tables() {
            let got = run(t, &c);
            for (j, ((g, w), (sum, max))) in got.iter().zip(&want).zip(&mags).enumerate() {
                let tol = 1e-2 * sum + 1e-3 * max + 1e-6;
                prop_assert!(
                    ((g - w) as f64).abs() <= tol,
                    "{} [{}]: {} vs {} (tolerance {})", t.tier(), j, g, w, tol
                );
            }
        }
    }
}

#[test]
fn every_tier_checks_lengths() {
    let keys = [f16::ONE; 3];
    for t in available_tables() {
        let (mut acc, mut out) = ([f16::ZERO; 2], [0.0; 2]);
        assert!(t
            .attend(&[0.0, 1.0], &keys, &keys, 1.0, &mut acc, &mut out)
            .is_err());
        assert!(t
            .attend(&[0.0, 1.0], &[], &[], 1.0, &mut acc, &mut out)
            .is_err());
        assert!(t
            .attend(&[0.0, 1.0], &keys[..2], &keys[..2], 1.0, &mut acc, &mut out)
            .is_ok());
    }
}

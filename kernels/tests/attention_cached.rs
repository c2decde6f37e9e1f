//! Attention over f16 and q8_0 caches ([`KernelTable::attend_cached`]): the scalar table
//! against an f64 evaluation of the definition, every SIMD tier against the scalar
//! table, and bad lengths rejected.
//!
//! The definition (llama.cpp's for one query row): with q8_0 keys the query is quantized
//! to q8_0 and the scores are the dot products of the two dequantized rows; with f16 keys
//! the query is rounded to f16. Values are the dequantized rows. The expected output is
//! the exact softmax-weighted sum of values; the tolerance allows for f32 sums (q8_0
//! values) or an f16 accumulator (f16 values), relative to `Σ_p w_p·|v[p][j]|`.

mod common;

use common::*;
use edge_kernels::ops::{AttendScratch, CachedKeys, CachedValues};
use edge_kernels::KernelTable;
use edge_quant::legacy::{dequantize_q8_0, quantize_q8_0, BlockQ8_0};
use half::f16;
use proptest::prelude::*;

/// One KV head's cache in one of the two types, with its dequantized values.
#[derive(Clone)]
enum Rows {
    F16(Vec<f16>),
    Q8_0(Vec<BlockQ8_0>),
}

impl Rows {
    fn new(x: &[f32], q8: bool) -> Rows {
        if q8 {
            let mut bytes = vec![0u8; x.len() / 32 * 34];
            quantize_q8_0(x, &mut bytes);
            Rows::Q8_0(bytemuck::cast_slice::<u8, BlockQ8_0>(&bytes).to_vec())
        } else {
            Rows::F16(x.iter().map(|&v| f16::from_f32(v)).collect())
        }
    }

    fn dequantized(&self) -> Vec<f64> {
        match self {
            Rows::F16(h) => h.iter().map(|v| v.to_f64()).collect(),
            Rows::Q8_0(b) => {
                let mut out = vec![0.0f32; b.len() * 32];
                dequantize_q8_0(bytemuck::cast_slice(b), &mut out);
                out.into_iter().map(f64::from).collect()
            }
        }
    }

    fn keys(&self) -> CachedKeys<'_> {
        match self {
            Rows::F16(h) => CachedKeys::F16(h),
            Rows::Q8_0(b) => CachedKeys::Q8_0(b),
        }
    }

    fn values(&self) -> CachedValues<'_> {
        match self {
            Rows::F16(h) => CachedValues::F16(h),
            Rows::Q8_0(b) => CachedValues::Q8_0(b),
        }
    }
}

struct Case {
    d: usize,
    q: Vec<f32>,
    keys: Rows,
    values: Rows,
    scale: f32,
}

impl std::fmt::Debug for Case {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let ty = |r: &Rows| match r {
            Rows::F16(_) => "f16",
            Rows::Q8_0(_) => "q8_0",
        };
        write!(
            f,
            "Case {{ d: {}, n: {}, keys: {}, values: {}, scale: {} }}",
            self.d,
            self.keys.dequantized().len() / self.d,
            ty(&self.keys),
            ty(&self.values),
            self.scale
        )
    }
}

/// Head widths of real models (and 32, 96) with 1..=40 positions, either cache type on
/// either side; values include zero rows and large magnitudes.
fn case() -> impl Strategy<Value = Case> {
    (
        prop::sample::select(vec![32usize, 64, 96, 128, 256]),
        1usize..=40,
        any::<(bool, bool)>(),
        0.02f32..0.5,
    )
        .prop_flat_map(|(d, n, (kq8, vq8), scale)| {
            let value = prop_oneof![8 => -8.0f32..8.0, 1 => Just(0.0f32), 1 => -300.0f32..300.0];
            (
                prop::collection::vec(-3.0f32..3.0, d),
                prop::collection::vec(-3.0f32..3.0, n * d),
                prop::collection::vec(value, n * d),
            )
                .prop_map(move |(q, k, v)| Case {
                    d,
                    q,
                    keys: Rows::new(&k, kq8),
                    values: Rows::new(&v, vq8),
                    scale,
                })
        })
}

fn run(t: &KernelTable, c: &Case) -> Vec<f32> {
    let mut out = vec![0.0; c.d];
    let mut scratch = AttendScratch::default();
    t.attend_cached(
        &c.q,
        c.keys.keys(),
        c.values.values(),
        c.scale,
        &mut scratch,
        &mut out,
    )
    .unwrap();
    out
}

/// The definition in f64: per output element, the exact value and `Σ_p w_p·|v[p][j]|`.
fn reference(c: &Case) -> Vec<(f64, f64)> {
    let q: Vec<f64> = match c.keys {
        Rows::F16(_) => Rows::new(&c.q, false).dequantized(),
        Rows::Q8_0(_) => Rows::new(&c.q, true).dequantized(),
    };
    let (k, v) = (c.keys.dequantized(), c.values.dequantized());
    let scores: Vec<f64> = k
        .chunks(c.d)
        .map(|k| c.scale as f64 * k.iter().zip(&q).map(|(a, b)| a * b).sum::<f64>())
        .collect();
    let max = scores.iter().cloned().fold(f64::NEG_INFINITY, f64::max);
    let w: Vec<f64> = scores.iter().map(|s| (s - max).exp()).collect();
    let total: f64 = w.iter().sum();
    (0..c.d)
        .map(|j| {
            let col = v.chunks(c.d).map(|v| v[j]);
            let value = col.clone().zip(&w).map(|(v, w)| v * w / total).sum();
            let magnitude = col.zip(&w).map(|(v, w)| v.abs() * w / total).sum();
            (value, magnitude)
        })
        .collect()
}

/// Relative tolerance: f32 accumulation for q8_0 values, an f16 accumulator for f16 ones
/// (one f16 rounding per position, of relative size 2^-11, over up to 40 positions).
fn rel_tol(c: &Case) -> f64 {
    match c.values {
        Rows::Q8_0(_) => 1e-4,
        Rows::F16(_) => 1e-2,
    }
}

proptest! {
    #![proptest_config(config(256))]

    #[test]
    fn scalar_follows_the_definition(c in case()) {
        let got = run(KernelTable::scalar(), &c);
        for (j, (g, (want, mag))) in got.iter().zip(reference(&c)).enumerate() {
            let tol = rel_tol(&c) * mag + 1e-6;
            prop_assert!(
                (*g as f64 - want).abs() <= tol,
                "[{}]: {} vs {} (tolerance {})", j, g, want, tol
            );
        }
    }

    #[test]
    fn every_tier_matches_scalar(c in case()) {
        let want = run(KernelTable::scalar(), &c);
        let reference = reference(&c);
        for t in available_tables() {
            let got = run(t, &c);
            for (j, ((g, w), (_, mag))) in got.iter().zip(&want).zip(&reference).enumerate() {
                let tol = rel_tol(&c) * mag + 1e-6;
                prop_assert!(
                    ((g - w) as f64).abs() <= tol,
                    "{} [{}]: {} vs {} (tolerance {})", t.tier(), j, g, w, tol
                );
            }
        }
    }
}

/// With f16 keys and values the result is [`KernelTable::attend`]'s on the query rounded
/// to f16, bit for bit: the f16 cache keeps its existing arithmetic.
#[test]
fn f16_cache_is_attend_on_the_rounded_query() {
    let d = 64;
    let q: Vec<f32> = (0..d).map(|i| (i as f32 * 0.37).sin()).collect();
    let x: Vec<f32> = (0..5 * d).map(|i| (i as f32 * 0.11).cos()).collect();
    let rows = Rows::new(&x, false);
    let Rows::F16(h) = &rows else { unreachable!() };
    let rounded: Vec<f32> = q.iter().map(|&v| f16::from_f32(v).to_f32()).collect();
    for t in available_tables() {
        let (mut acc, mut want) = (vec![f16::ZERO; d], vec![0.0; d]);
        t.attend(&rounded, h, h, 0.125, &mut acc, &mut want)
            .unwrap();
        let c = Case {
            d,
            q: q.clone(),
            keys: rows.clone(),
            values: rows.clone(),
            scale: 0.125,
        };
        assert_eq!(run(t, &c), want, "{}", t.tier());
    }
}

#[test]
fn bad_lengths_are_errors() {
    let x = vec![0.5f32; 4 * 64];
    let (k8, k16) = (Rows::new(&x, true), Rows::new(&x, false));
    let (Rows::Q8_0(b), Rows::F16(h)) = (&k8, &k16) else {
        unreachable!()
    };
    let mut scratch = AttendScratch::default();
    for t in available_tables() {
        let mut out = vec![0.0; 64];
        let q = vec![1.0f32; 64];
        let mut call = |q: &[f32], k: CachedKeys<'_>, v: CachedValues<'_>, out: &mut [f32]| {
            t.attend_cached(q, k, v, 1.0, &mut scratch, out)
        };
        // Fine: four positions of 64, any mix of types.
        assert!(call(&q, CachedKeys::Q8_0(b), CachedValues::F16(h), &mut out).is_ok());
        assert!(call(&q, CachedKeys::F16(h), CachedValues::Q8_0(b), &mut out).is_ok());
        // A q8_0 side needs a head width that is a multiple of 32.
        let mut out48 = vec![0.0; 48];
        let e = call(
            &q[..48],
            CachedKeys::Q8_0(&b[..3]),
            CachedValues::F16(&h[..144]),
            &mut out48,
        );
        assert!(e.is_err(), "{}: width 48 with q8_0 keys", t.tier());
        // Keys and values must hold the same number of positions, at least one.
        let e = call(
            &q,
            CachedKeys::Q8_0(b),
            CachedValues::Q8_0(&b[..6]),
            &mut out,
        );
        assert!(
            e.is_err(),
            "{}: 4 key positions, 3 value positions",
            t.tier()
        );
        let e = call(&q, CachedKeys::Q8_0(&[]), CachedValues::Q8_0(&[]), &mut out);
        assert!(e.is_err(), "{}: no positions", t.tier());
        let e = call(
            &q,
            CachedKeys::F16(&h[..100]),
            CachedValues::F16(&h[..100]),
            &mut out,
        );
        assert!(e.is_err(), "{}: a partial f16 row", t.tier());
        // The output must be as long as the query.
        let e = call(
            &q,
            CachedKeys::Q8_0(b),
            CachedValues::Q8_0(b),
            &mut out[..32],
        );
        assert!(e.is_err(), "{}: short output", t.tier());
    }
}

//! Expected values below are worked out by hand from the definitions, not read back from
//! the code.

use super::filters::{self, Candidate};
use super::penalties::{History, Penalties};
use super::*;

/// Logits whose softmax is exactly `probs` (up to rounding).
fn logits_of(probs: &[f64]) -> Vec<f32> {
    probs.iter().map(|p| p.ln() as f32).collect()
}

fn sorted(logits: &[f32]) -> Vec<Candidate> {
    let mut c = filters::candidates(logits);
    filters::top_k(&mut c, 0);
    c
}

fn ids(c: &[Candidate]) -> Vec<u32> {
    c.iter().map(|c| c.id).collect()
}

fn params(temp: f32, top_k: usize, top_p: f32, min_p: f32, seed: u64) -> SamplingParams {
    SamplingParams {
        temp,
        top_k,
        top_p,
        min_p,
        seed,
        ..SamplingParams::default()
    }
}

#[test]
fn greedy_picks_the_argmax_and_the_lowest_id_on_a_tie() {
    let mut s = Sampler::new(params(0.0, 40, 0.95, 0.05, 1)).unwrap();
    assert_eq!(s.sample(&[1.0, 3.0, 2.0, 3.0]).unwrap(), 1);
    assert_eq!(s.sample(&[-5.0, -4.0, -4.5]).unwrap(), 1);
    assert_eq!(Sampler::greedy().sample(&[0.0, 0.0, 7.5]).unwrap(), 2);
}

#[test]
fn top_k_1_is_greedy_whatever_the_seed_and_temperature() {
    let logits = [0.3, 1.9, -0.2, 1.8, 1.85, 0.0];
    for seed in 0..50 {
        let mut s = Sampler::new(params(1.5, 1, 1.0, 0.0, seed)).unwrap();
        assert_eq!(s.sample(&logits).unwrap(), 1, "seed {seed}");
    }
}

#[test]
fn top_k_keeps_the_k_highest_sorted() {
    let mut c = filters::candidates(&[0.5, 4.0, -1.0, 2.0, 3.0]);
    filters::top_k(&mut c, 3);
    assert_eq!(ids(&c), [1, 4, 3]);
}

#[test]
fn top_p_keeps_the_shortest_prefix_reaching_p() {
    // Probabilities 0.5, 0.3, 0.15, 0.05: cumulative 0.5, 0.8, 0.95, 1.0.
    let logits = logits_of(&[0.15, 0.5, 0.05, 0.3]);
    let cases = [(0.4, vec![1]), (0.75, vec![1, 3]), (0.9, vec![1, 3, 0])];
    for (p, want) in cases {
        let mut c = sorted(&logits);
        filters::top_p(&mut c, p);
        assert_eq!(ids(&c), want, "top_p {p}");
    }
    let mut c = sorted(&logits);
    filters::top_p(&mut c, 1.0);
    assert_eq!(c.len(), 4);
}

#[test]
fn min_p_drops_tokens_below_a_fraction_of_the_best() {
    // Best is 0.5: min_p 0.2 → threshold 0.1 keeps 0.5, 0.3, 0.15; min_p 0.5 → 0.25
    // keeps 0.5, 0.3; min_p 0.9 → 0.45 keeps only the best.
    let logits = logits_of(&[0.15, 0.5, 0.05, 0.3]);
    for (p, want) in [(0.2, vec![1, 3, 0]), (0.5, vec![1, 3]), (0.9, vec![1])] {
        let mut c = sorted(&logits);
        filters::min_p(&mut c, p);
        assert_eq!(ids(&c), want, "min_p {p}");
    }
}

#[test]
fn penalties_on_known_logits() {
    // Token 0 seen twice, token 1 once. Repeat 2, frequency 0.1, presence 0.5:
    // t0: 2.0 / 2 - (2 × 0.1 + 0.5) = 0.3
    // t1: -1.0 × 2 - (1 × 0.1 + 0.5) = -2.6
    // t2, t3 unseen: unchanged.
    let mut h = History::new(64);
    for id in [0, 1, 0] {
        h.push(id);
    }
    let pen = Penalties {
        repeat: 2.0,
        frequency: 0.1,
        presence: 0.5,
    };
    let mut logits = [2.0, -1.0, 0.5, 3.0];
    pen.apply(&h, &mut logits);
    let want = [0.3, -2.6, 0.5, 3.0];
    for (got, want) in logits.iter().zip(want) {
        assert!((got - want).abs() < 1e-6, "{logits:?}");
    }
}

#[test]
fn penalties_only_see_the_last_n_tokens() {
    // Window 2 after 0, 1, 0 holds [1, 0]: each counted once.
    let mut h = History::new(2);
    for id in [0, 1, 0] {
        h.push(id);
    }
    let mut counts: Vec<_> = h.counts().collect();
    counts.sort();
    assert_eq!(counts, [(0, 1), (1, 1)]);
    // A window of 0 records nothing.
    let mut h = History::new(0);
    h.push(3);
    assert_eq!(h.counts().count(), 0);
}

#[test]
fn repeat_penalty_changes_the_greedy_choice() {
    // 2.0 / 2 = 1.0 < 1.5.
    let mut s = Sampler::new(SamplingParams {
        temp: 0.0,
        repeat_penalty: 2.0,
        ..SamplingParams::default()
    })
    .unwrap();
    assert_eq!(s.sample(&[2.0, 1.5]).unwrap(), 0);
    s.accept(0);
    assert_eq!(s.sample(&[2.0, 1.5]).unwrap(), 1);
    s.reset();
    assert_eq!(s.sample(&[2.0, 1.5]).unwrap(), 0);
}

fn run(seed: u64, n: usize) -> Vec<u32> {
    let mut s = Sampler::new(params(1.0, 0, 1.0, 0.0, seed)).unwrap();
    let logits = [0.0f32; 10];
    (0..n).map(|_| s.sample(&logits).unwrap()).collect()
}

#[test]
fn the_same_seed_gives_the_same_sequence() {
    assert_eq!(run(42, 100), run(42, 100));
    assert_ne!(run(42, 100), run(43, 100));
}

/// Pearson's chi-square statistic of `counts` against `probs`.
fn chi_square(counts: &[u32], probs: &[f64]) -> f64 {
    let n: u32 = counts.iter().sum();
    counts
        .iter()
        .zip(probs)
        .map(|(&c, &p)| {
            let e = f64::from(n) * p;
            (f64::from(c) - e).powi(2) / e
        })
        .sum()
}

fn histogram(temp: f32, logits: &[f32], n: usize, seed: u64) -> Vec<u32> {
    let mut s = Sampler::new(params(temp, 0, 1.0, 0.0, seed)).unwrap();
    let mut counts = vec![0u32; logits.len()];
    for _ in 0..n {
        counts[s.sample(logits).unwrap() as usize] += 1;
    }
    counts
}

// 3 degrees of freedom: P(chi² > 16.27) = 0.001.
const CHI2_3DOF_999: f64 = 16.27;

#[test]
fn temperature_1_follows_the_softmax() {
    let probs = [0.1, 0.2, 0.3, 0.4];
    for seed in [1, 2, 3] {
        let counts = histogram(1.0, &logits_of(&probs), 20_000, seed);
        let chi2 = chi_square(&counts, &probs);
        assert!(chi2 < CHI2_3DOF_999, "seed {seed}: {counts:?}, chi² {chi2}");
    }
}

#[test]
fn temperature_half_squares_the_probabilities() {
    // softmax(ln p / 0.5) ∝ p²: 0.01, 0.04, 0.09, 0.16 over 0.30.
    let counts = histogram(0.5, &logits_of(&[0.1, 0.2, 0.3, 0.4]), 20_000, 7);
    let want = [1.0 / 30.0, 4.0 / 30.0, 9.0 / 30.0, 16.0 / 30.0];
    let chi2 = chi_square(&counts, &want);
    assert!(chi2 < CHI2_3DOF_999, "{counts:?}, chi² {chi2}");
}

#[test]
fn filtered_tokens_are_never_drawn() {
    // top_k 2 of [0.4, 0.3, 0.2, 0.1]: only ids 3 and 2 (listed in reverse) can come out.
    let logits = logits_of(&[0.1, 0.2, 0.3, 0.4]);
    let mut s = Sampler::new(params(1.0, 2, 1.0, 0.0, 9)).unwrap();
    for _ in 0..1000 {
        let id = s.sample(&logits).unwrap();
        assert!(id == 2 || id == 3, "{id}");
    }
}

#[test]
fn nan_logits_are_never_chosen_and_empty_logits_are_an_error() {
    let logits = [f32::NAN, 0.0, f32::NAN];
    let mut s = Sampler::new(params(1.0, 0, 1.0, 0.0, 5)).unwrap();
    for _ in 0..100 {
        assert_eq!(s.sample(&logits).unwrap(), 1);
    }
    assert_eq!(Sampler::greedy().sample(&logits).unwrap(), 1);
    assert_eq!(s.sample(&[]), Err(SamplingError::NoLogits));
}

#[test]
fn out_of_range_settings_are_errors() {
    for bad in [
        params(f32::NAN, 40, 0.9, 0.0, 0),
        params(0.8, 40, 0.0, 0.0, 0),
        params(0.8, 40, 1.5, 0.0, 0),
        params(0.8, 40, 0.9, -0.1, 0),
        SamplingParams {
            repeat_penalty: 0.0,
            ..SamplingParams::default()
        },
    ] {
        assert!(
            matches!(
                Sampler::new(bad.clone()),
                Err(SamplingError::InvalidParam { .. })
            ),
            "{bad:?}"
        );
    }
}

#[test]
fn the_generator_is_uniform_enough() {
    let mut r = Rng::new(0);
    let n = 100_000;
    let mean: f64 = (0..n).map(|_| r.next_f64()).sum::<f64>() / n as f64;
    assert!((mean - 0.5).abs() < 0.01, "{mean}");
}

//! Reading the reference JSONs (`shared/reference`, `tests/golden/quant-parity`) and comparing
//! logits with them: the helpers the LLM tests share.

use std::path::Path;

use serde_json::Value as Json;

/// Parses the JSON file at `path`, panicking with its path when it cannot.
pub fn read_json(path: &Path) -> Json {
    let bytes = std::fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_slice(&bytes).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// A JSON array of token ids.
pub fn ids(v: &Json) -> Vec<u32> {
    v.as_array()
        .expect("an array of token ids")
        .iter()
        .map(|x| x.as_u64().expect("a token id") as u32)
        .collect()
}

/// A JSON array of numbers.
pub fn f64s(v: &Json) -> Vec<f64> {
    v.as_array()
        .expect("an array of numbers")
        .iter()
        .map(|x| x.as_f64().expect("a number"))
        .collect()
}

/// Index of the highest logit, the lowest on a tie (as llama.cpp's greedy sampler).
pub fn argmax(logits: &[f32]) -> u32 {
    let mut best = 0;
    for (i, &v) in logits.iter().enumerate() {
        if v > logits[best] {
            best = i;
        }
    }
    best as u32
}

/// How many of llama.cpp's greedy steps (`greedy`, with `greedy_margin` per step) to compare:
/// up to 16, stopping before the first near-tie (a margin below 0.5 between its two best
/// logits, which may legitimately go either way).
pub fn greedy_steps(prompt: &Json) -> usize {
    let n = ids(&prompt["greedy"]).len().min(16);
    let margins = f64s(&prompt["greedy_margin"]);
    margins.iter().take(n).take_while(|&&m| m >= 0.5).count()
}

/// Negative log-likelihood of `next` under `logits`, in f64.
pub fn nll(logits: &[f32], next: u32) -> f64 {
    let max = logits.iter().copied().fold(f32::NEG_INFINITY, f32::max) as f64;
    let sum: f64 = logits.iter().map(|&v| (v as f64 - max).exp()).sum();
    max + sum.ln() - logits[next as usize] as f64
}

/// Mean of |a − b| over two equally long series.
pub fn mean_abs_diff(a: &[f64], b: &[f64]) -> f64 {
    assert_eq!(a.len(), b.len());
    a.iter().zip(b).map(|(x, y)| (x - y).abs()).sum::<f64>() / a.len() as f64
}

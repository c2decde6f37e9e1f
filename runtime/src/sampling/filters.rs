//! The steps of the sampling chain, each over a list of candidate tokens.
//!
//! After [`top_k`] the list is sorted by logit, highest first (ties: lowest id first), and
//! every later step keeps it so.

use std::cmp::Ordering;

/// A token still in the running, with its (adjusted) logit.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) struct Candidate {
    pub id: u32,
    pub logit: f32,
}

/// Highest logit first; equal logits by lowest id, so that every choice is deterministic.
fn by_rank(a: &Candidate, b: &Candidate) -> Ordering {
    b.logit.total_cmp(&a.logit).then(a.id.cmp(&b.id))
}

/// The candidates of a logits vector. A NaN logit (a broken model) can never be chosen.
pub(super) fn candidates(logits: &[f32]) -> Vec<Candidate> {
    logits
        .iter()
        .enumerate()
        .map(|(id, &l)| Candidate {
            id: id as u32,
            logit: sanitize(l),
        })
        .collect()
}

/// NaN (a broken model) ranks last; +inf becomes the largest finite value, so that the
/// softmax of the survivors stays a number.
fn sanitize(l: f32) -> f32 {
    if l.is_nan() {
        f32::NEG_INFINITY
    } else {
        l.min(f32::MAX)
    }
}

/// The id with the highest logit, the lowest id among equals; `None` for an empty slice.
pub(super) fn argmax(logits: &[f32]) -> Option<u32> {
    let mut best: Option<(u32, f32)> = None;
    for (id, &l) in logits.iter().enumerate() {
        let l = sanitize(l);
        // Strictly greater: an equal logit later on does not replace the lower id.
        if best.is_none_or(|(_, b)| l > b) {
            best = Some((id as u32, l));
        }
    }
    best.map(|(id, _)| id)
}

/// Keeps the `k` highest candidates (all when `k` is 0 or at least their number) and sorts
/// them.
pub(super) fn top_k(c: &mut Vec<Candidate>, k: usize) {
    if k > 0 && k < c.len() {
        // A partial selection first: sorting the whole vocabulary for 40 tokens is waste.
        c.select_nth_unstable_by(k - 1, by_rank);
        c.truncate(k);
    }
    c.sort_unstable_by(by_rank);
}

/// Probabilities of sorted candidates (softmax of their logits).
pub(super) fn softmax(c: &[Candidate]) -> Vec<f64> {
    let Some(max) = c.first().map(|c| c.logit) else {
        return Vec::new();
    };
    if max == f32::NEG_INFINITY {
        // Nothing is possible, so everything is equally (im)possible.
        return vec![1.0 / c.len() as f64; c.len()];
    }
    let mut p: Vec<f64> = c.iter().map(|c| f64::from(c.logit - max).exp()).collect();
    let sum: f64 = p.iter().sum();
    for x in &mut p {
        *x /= sum;
    }
    p
}

/// Nucleus sampling: keeps the shortest run of the most likely candidates whose
/// probabilities add up to at least `p` (at least one). `p >= 1` keeps everything.
pub(super) fn top_p(c: &mut Vec<Candidate>, p: f32) {
    if p >= 1.0 || c.is_empty() {
        return;
    }
    let probs = softmax(c);
    let mut cum = 0.0f64;
    let mut keep = c.len();
    for (i, q) in probs.iter().enumerate() {
        cum += q;
        if cum >= f64::from(p) {
            keep = i + 1;
            break;
        }
    }
    c.truncate(keep.max(1));
}

/// Keeps candidates whose probability is at least `p` times that of the most likely one,
/// i.e. whose logit is at least `max + ln p`. `p <= 0` keeps everything.
pub(super) fn min_p(c: &mut Vec<Candidate>, p: f32) {
    let Some(max) = c.first().map(|c| c.logit) else {
        return;
    };
    if p <= 0.0 {
        return;
    }
    let threshold = max + p.ln();
    // Sorted, so the survivors are a prefix; the first one always survives.
    let keep = c.iter().take_while(|c| c.logit >= threshold).count();
    c.truncate(keep.max(1));
}

/// Divides every logit by `t` (> 0): below 1 sharpens the distribution, above 1 flattens it.
pub(super) fn temperature(c: &mut [Candidate], t: f32) {
    for c in c {
        c.logit /= t;
    }
}

/// Draws a candidate with probability softmax(logit), given `u` uniform in `[0, 1)`.
pub(super) fn draw(c: &[Candidate], u: f64) -> Option<u32> {
    let probs = softmax(c);
    let mut cum = 0.0;
    for (cand, q) in c.iter().zip(&probs) {
        cum += q;
        if u < cum {
            return Some(cand.id);
        }
    }
    // Rounding left the sum a hair below 1 and `u` above it: the last candidate.
    c.last().map(|c| c.id)
}

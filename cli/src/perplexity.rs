//! `edge-run perplexity MODEL -f FILE [-c 512] [--chunks N]`: how well the model predicts a
//! text.
//!
//! The file is tokenized as a whole (with BOS where the model adds one) and cut into
//! consecutive, non-overlapping windows of `c` tokens (a shorter tail is dropped); only the
//! first window starts with BOS. Each window is evaluated in a fresh context, and every
//! position after its first is scored: the negative log-likelihood of token i+1 given
//! tokens 0..=i of the window. Perplexity = exp(mean NLL over all scored positions).
//! (This is not llama-perplexity's method, which scores only the second half of each
//! window.)

use crate::cache::CacheArgs;
use crate::models;
use crate::prompt::PromptArgs;
use anyhow::{bail, Result};
use clap::Args;
use std::path::PathBuf;
use std::time::Instant;

/// Arguments of `edge-run perplexity`.
#[derive(Debug, Args)]
pub struct PerplexityArgs {
    /// The GGUF model file.
    pub model: PathBuf,
    #[command(flatten)]
    pub text: PromptArgs,
    /// Window size in tokens.
    #[arg(
        short = 'c',
        long = "ctx-size",
        value_name = "N",
        default_value_t = 512
    )]
    pub ctx_size: usize,
    /// Score only the first N windows [default: all].
    #[arg(long, value_name = "N")]
    pub chunks: Option<usize>,
    /// Threads for the computation [default: all cores].
    #[arg(
        short = 't',
        long,
        value_name = "N",
        default_value_t = 0,
        hide_default_value = true
    )]
    pub threads: usize,
    #[command(flatten)]
    pub cache: CacheArgs,
    #[command(flatten)]
    pub load: crate::models::LoadArgs,
}

/// Runs `edge-run perplexity`.
pub fn run(args: &PerplexityArgs) -> Result<()> {
    let Some(text) = args.text.read()? else {
        bail!("no text to score: give it with -f FILE (or -p TEXT)");
    };
    let c = args.ctx_size;
    if c < 2 {
        bail!("the window (-c) must be at least 2 tokens");
    }
    let (model, _) = models::load(&args.model, args.threads, args.load)?;
    // The text is data: special-token text in it is not parsed as special tokens.
    let tokens = model.tokenizer().encode(&text, true, false);
    let mut n_chunks = tokens.len() / c;
    if n_chunks == 0 {
        bail!(
            "the text has {} tokens, fewer than one window of {c} (-c)",
            tokens.len()
        );
    }
    if let Some(limit) = args.chunks {
        n_chunks = n_chunks.min(limit.max(1));
    }
    eprintln!("{} tokens, {n_chunks} window(s) of {c}", tokens.len());
    let mut session = args.cache.session(&model, c)?;
    let mut nll_sum = 0.0f64;
    let mut n_scored = 0usize;
    let start = Instant::now();
    for (k, window) in tokens.chunks_exact(c).take(n_chunks).enumerate() {
        session.reset();
        // One token at a time: the logits of position i are scored against token i+1
        // without holding c × n_vocab logits in memory.
        for (i, pair) in window.windows(2).enumerate() {
            let logits = session.eval(&window[i..=i])?;
            nll_sum += nll(logits, pair[1]);
            n_scored += 1;
        }
        eprintln!(
            "[{}] {:.4} ({:.1} s)",
            k + 1,
            (nll_sum / n_scored as f64).exp(),
            start.elapsed().as_secs_f64()
        );
    }
    let ppl = (nll_sum / n_scored as f64).exp();
    crate::output::print(&format!("perplexity: {ppl:.4}\n"))
}

/// −log softmax(logits)[target], in f64 for a stable sum.
fn nll(logits: &[f32], target: u32) -> f64 {
    let max = logits.iter().copied().fold(f32::NEG_INFINITY, f32::max);
    let sum: f64 = logits.iter().map(|&l| f64::from(l - max).exp()).sum();
    let lse = f64::from(max) + sum.ln();
    lse - logits
        .get(target as usize)
        .map_or(f64::NEG_INFINITY, |&l| f64::from(l))
}

#[cfg(test)]
mod tests {
    use super::nll;

    #[test]
    fn nll_of_a_uniform_distribution_is_ln_n() {
        assert!((nll(&[0.5; 4], 2) - 4f64.ln()).abs() < 1e-12);
        // softmax([ln 1, ln 3]) = [0.25, 0.75].
        let l = [0.0, 3f32.ln()];
        assert!((nll(&l, 1) - (-(0.75f64).ln())).abs() < 1e-6);
    }
}

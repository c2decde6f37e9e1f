//! The generation loop: evaluate a prompt, then sample, stream and evaluate one token at a
//! time until an end-of-generation token, a stop string, the token budget, a full context
//! or the caller says stop.
//!
//! There is no context shifting: when the session's context is full, generation ends with
//! [`StopReason::ContextFull`]; start a larger session to go further.
//!
//! ```no_run
//! use std::ops::ControlFlow;
//! use edge_runtime::generate::{generate, GenerateParams};
//! use edge_runtime::llm::{LoadParams, Model};
//! use edge_runtime::sampling::Sampler;
//!
//! let model = Model::load("model.gguf", &LoadParams::default())?;
//! let prompt = model.tokenizer().encode("Once upon a time", true, true);
//! let mut session = model.session(2048)?;
//! let params = GenerateParams { n_predict: Some(64), stop: vec!["\n\n".into()] };
//! let out = generate(&mut session, &prompt, &mut Sampler::greedy(), &params, |piece| {
//!     print!("{piece}");
//!     ControlFlow::Continue(())
//! })?;
//! eprintln!("{:?}: {} tokens", out.stop_reason, out.tokens.len());
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use std::ops::ControlFlow;
use std::time::Instant;

use crate::llm::{LlmError, Session};
use crate::sampling::{Sampler, SamplingError};

/// What to generate.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct GenerateParams {
    /// Most tokens to generate; `None` goes on until another reason to stop.
    pub n_predict: Option<usize>,
    /// Texts that end the generation when produced; the stop text itself is not part of
    /// the output. Empty strings are ignored.
    pub stop: Vec<String>,
}

/// Why generation ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum StopReason {
    /// The model produced an end-of-generation token (not part of the output).
    Eos,
    /// `n_predict` tokens were generated.
    Length,
    /// A stop string was produced.
    StopString,
    /// The session's context is full (there is no context shifting).
    ContextFull,
    /// The `on_piece` callback asked to stop.
    Cancelled,
}

impl StopReason {
    /// A short lower-case name (`eos`, `length`, `stop`, `context_full`, `cancelled`).
    pub fn as_str(self) -> &'static str {
        match self {
            StopReason::Eos => "eos",
            StopReason::Length => "length",
            StopReason::StopString => "stop",
            StopReason::ContextFull => "context_full",
            StopReason::Cancelled => "cancelled",
        }
    }
}

/// How long each phase took.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Timings {
    /// Loading the model, in milliseconds, when the caller measured it (not set here).
    pub load_ms: Option<f64>,
    /// Evaluating the prompt.
    pub prompt_ms: f64,
    /// Tokens in the prompt.
    pub n_prompt: usize,
    /// Sampling and evaluating the generated tokens.
    pub gen_ms: f64,
    /// Tokens generated (the end-of-generation token included, when there was one).
    pub n_gen: usize,
}

impl Timings {
    /// Prompt tokens per second (0 when nothing was timed).
    pub fn prompt_tokens_per_s(&self) -> f64 {
        per_second(self.n_prompt, self.prompt_ms)
    }

    /// Generated tokens per second (0 when nothing was timed).
    pub fn gen_tokens_per_s(&self) -> f64 {
        per_second(self.n_gen, self.gen_ms)
    }
}

fn per_second(n: usize, ms: f64) -> f64 {
    if ms > 0.0 {
        n as f64 * 1000.0 / ms
    } else {
        0.0
    }
}

/// The result of [`generate`].
#[derive(Debug, Clone, PartialEq)]
pub struct GenerateOutput {
    /// The generated tokens, without a final end-of-generation token.
    pub tokens: Vec<u32>,
    /// The text streamed to `on_piece`, all of it: without a stop string or the
    /// end-of-generation token.
    pub text: String,
    /// Why generation ended.
    pub stop_reason: StopReason,
    /// How long it took.
    pub timings: Timings,
}

/// Why generation failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum GenerateError {
    /// There was no prompt token: a model needs at least one (usually BOS) to start.
    #[error("the prompt is empty")]
    EmptyPrompt,
    /// The prompt does not fit in what is left of the context.
    #[error("the prompt has {n_prompt} tokens but only {n_free} of the context of {n_ctx} are free; use a larger context (-c) or a shorter prompt")]
    PromptTooLong {
        /// Tokens in the prompt.
        n_prompt: usize,
        /// Positions left in the session.
        n_free: usize,
        /// The session's context size.
        n_ctx: usize,
    },
    /// The model failed.
    #[error(transparent)]
    Model(#[from] LlmError),
    /// The sampler failed.
    #[error(transparent)]
    Sampling(#[from] SamplingError),
}

/// Evaluates `prompt` after what `session` already holds, then generates.
///
/// `prompt` tokens are recorded in `sampler`'s history (for the repetition penalties), as
/// llama.cpp does. `on_piece` receives the text as it is produced: only whole UTF-8
/// characters, never part of a stop string (text that could be the start of one is held
/// back until it is known not to be). Returning [`ControlFlow::Break`] from it ends
/// generation with [`StopReason::Cancelled`].
pub fn generate(
    session: &mut Session<'_>,
    prompt: &[u32],
    sampler: &mut Sampler,
    params: &GenerateParams,
    mut on_piece: impl FnMut(&str) -> ControlFlow<()>,
) -> Result<GenerateOutput, GenerateError> {
    if prompt.is_empty() {
        return Err(GenerateError::EmptyPrompt);
    }
    let n_ctx = session.n_ctx();
    let n_free = n_ctx.saturating_sub(session.n_past());
    if prompt.len() > n_free {
        return Err(GenerateError::PromptTooLong {
            n_prompt: prompt.len(),
            n_free,
            n_ctx,
        });
    }
    let tokenizer = session.model().tokenizer();
    let mut timings = Timings {
        n_prompt: prompt.len(),
        ..Timings::default()
    };

    let start = Instant::now();
    for &id in prompt {
        sampler.accept(id);
    }
    let mut logits = session.eval(prompt)?;
    timings.prompt_ms = ms_since(start);

    let start = Instant::now();
    let mut decoder = tokenizer.stream_decoder();
    let mut stops = StopMatcher::new(&params.stop);
    let mut tokens = Vec::new();
    let mut text = String::new();
    let mut emit = |s: &str, text: &mut String| -> ControlFlow<()> {
        if s.is_empty() {
            return ControlFlow::Continue(());
        }
        text.push_str(s);
        on_piece(s)
    };

    let stop_reason = loop {
        if params.n_predict.is_some_and(|n| tokens.len() >= n) {
            break StopReason::Length;
        }
        let id = sampler.sample(logits)?;
        sampler.accept(id);
        timings.n_gen += 1;
        if tokenizer.is_eog(id) {
            break StopReason::Eos;
        }
        tokens.push(id);
        let piece = decoder.push(id);
        let (ready, stopped) = stops.push(&piece);
        if emit(&ready, &mut text).is_break() {
            break StopReason::Cancelled;
        }
        if stopped {
            break StopReason::StopString;
        }
        if params.n_predict.is_some_and(|n| tokens.len() >= n) {
            // No need to evaluate a token nothing will follow.
            break StopReason::Length;
        }
        logits = match session.eval(&[id]) {
            Ok(l) => l,
            Err(LlmError::ContextFull { .. }) => break StopReason::ContextFull,
            Err(e) => return Err(e.into()),
        };
    };
    if !matches!(stop_reason, StopReason::StopString | StopReason::Cancelled) {
        // What was held back, now known not to start a stop string, and any bytes of an
        // unfinished character.
        let mut rest = stops.finish();
        rest.push_str(&decoder.finish());
        // The caller cannot cancel what is already over.
        let _ = emit(&rest, &mut text);
    }
    timings.gen_ms = ms_since(start);
    Ok(GenerateOutput {
        tokens,
        text,
        stop_reason,
        timings,
    })
}

fn ms_since(start: Instant) -> f64 {
    start.elapsed().as_secs_f64() * 1000.0
}

/// Finds stop strings in streamed text, holding back any tail that may be the start of
/// one.
#[derive(Debug)]
struct StopMatcher<'s> {
    stops: Vec<&'s str>,
    held: String,
}

impl<'s> StopMatcher<'s> {
    fn new(stops: &'s [String]) -> Self {
        StopMatcher {
            stops: stops
                .iter()
                .map(String::as_str)
                .filter(|s| !s.is_empty())
                .collect(),
            held: String::new(),
        }
    }

    /// Adds `piece`; returns the text now safe to emit, and whether a stop string was
    /// found (the text before it is emitted, it and what follows are dropped).
    fn push(&mut self, piece: &str) -> (String, bool) {
        if self.stops.is_empty() {
            return (piece.to_owned(), false);
        }
        self.held.push_str(piece);
        // A stop string can only start in held text: anything emitted earlier was not
        // the beginning of one.
        let first = self.stops.iter().filter_map(|s| self.held.find(s)).min();
        if let Some(at) = first {
            let out = self.held[..at].to_owned();
            self.held.clear();
            return (out, true);
        }
        // Hold back the longest tail that some stop string starts with.
        let keep_from = self
            .held
            .char_indices()
            .map(|(i, _)| i)
            .find(|&i| {
                let tail = &self.held[i..];
                self.stops.iter().any(|s| s.starts_with(tail))
            })
            .unwrap_or(self.held.len());
        let out = self.held[..keep_from].to_owned();
        self.held.drain(..keep_from);
        (out, false)
    }

    /// The text still held back.
    fn finish(&mut self) -> String {
        std::mem::take(&mut self.held)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(stops: &[&str], pieces: &[&str]) -> (Vec<String>, bool, String) {
        let stops: Vec<String> = stops.iter().map(|s| s.to_string()).collect();
        let mut m = StopMatcher::new(&stops);
        let mut out = Vec::new();
        for p in pieces {
            let (s, stopped) = m.push(p);
            out.push(s);
            if stopped {
                return (out, true, m.finish());
            }
        }
        let rest = m.finish();
        (out, false, rest)
    }

    #[test]
    fn without_stop_strings_everything_passes() {
        assert_eq!(
            run(&[], &["a", "b"]),
            (vec!["a".into(), "b".into()], false, String::new())
        );
        assert_eq!(run(&[""], &["a"]).0, ["a"]);
    }

    #[test]
    fn a_stop_string_across_pieces_is_never_emitted() {
        let (out, stopped, _) = run(&["END"], &["hello E", "N", "D more"]);
        assert!(stopped);
        assert_eq!(out, ["hello ", "", ""]);
    }

    #[test]
    fn a_false_start_is_released() {
        let (out, stopped, rest) = run(&["END"], &["EN", "d", "!E"]);
        assert!(!stopped);
        // "EN" may start "END"; "ENd" cannot; "!E" releases "!" and holds "E".
        assert_eq!(out, ["", "ENd", "!"]);
        assert_eq!(rest, "E");
    }

    #[test]
    fn the_earliest_of_several_stop_strings_wins() {
        let (out, stopped, _) = run(&["world", "lo w"], &["hello world"]);
        assert!(stopped);
        assert_eq!(out, ["hel"]);
    }

    #[test]
    fn multibyte_text_is_split_on_characters() {
        let (out, stopped, rest) = run(&["éa"], &["xé", "é", "b"]);
        assert!(!stopped);
        assert_eq!(out, ["x", "é", "éb"]);
        assert_eq!(rest, "");
    }
}

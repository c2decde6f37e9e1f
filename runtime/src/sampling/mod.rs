//! Choosing the next token from the logits of a model.
//!
//! A [`Sampler`] applies, in llama.cpp's default order: repetition / frequency / presence
//! penalties over the last tokens → top-k → top-p → min-p → temperature → a draw from the
//! resulting distribution with a seeded generator. A temperature of 0 (or below) is greedy
//! decoding: the highest logit after the penalties, the lowest id among equals.
//!
//! ```
//! use edge_runtime::sampling::{Sampler, SamplingParams};
//!
//! let mut sampler = Sampler::new(SamplingParams { temp: 0.0, ..SamplingParams::default() })?;
//! let id = sampler.sample(&[0.1, 2.0, -1.0])?;
//! assert_eq!(id, 1);
//! sampler.accept(id);
//! # Ok::<(), edge_runtime::sampling::SamplingError>(())
//! ```

mod filters;
mod penalties;
mod rng;

#[cfg(test)]
mod tests;

pub use rng::Rng;

use penalties::{History, Penalties};

/// The settings of a [`Sampler`]. The defaults are llama.cpp's.
#[derive(Debug, Clone, PartialEq)]
pub struct SamplingParams {
    /// Temperature; `<= 0` means greedy decoding.
    pub temp: f32,
    /// Keep only the `top_k` most likely tokens; 0 keeps all.
    pub top_k: usize,
    /// Keep the smallest set of most likely tokens whose probabilities reach `top_p`;
    /// 1 keeps all.
    pub top_p: f32,
    /// Drop tokens less likely than `min_p` × the probability of the most likely one;
    /// 0 keeps all.
    pub min_p: f32,
    /// Repetition penalty for tokens among the last `repeat_last_n`; 1 is off.
    pub repeat_penalty: f32,
    /// How many of the last tokens the penalties look at; 0 turns them off.
    pub repeat_last_n: usize,
    /// Subtracted from a logit once per occurrence of its token in the window; 0 is off.
    pub frequency_penalty: f32,
    /// Subtracted from a logit once if its token occurs in the window; 0 is off.
    pub presence_penalty: f32,
    /// Seed of the random generator: the same seed, logits and settings give the same
    /// tokens.
    pub seed: u64,
}

impl Default for SamplingParams {
    fn default() -> Self {
        SamplingParams {
            temp: 0.8,
            top_k: 40,
            top_p: 0.95,
            min_p: 0.05,
            repeat_penalty: 1.0,
            repeat_last_n: 64,
            frequency_penalty: 0.0,
            presence_penalty: 0.0,
            seed: 0,
        }
    }
}

/// Why sampling could not be done.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum SamplingError {
    /// A setting is out of its range.
    #[error("invalid sampling setting {name} = {value}: {expected}")]
    InvalidParam {
        /// The setting's name, as in [`SamplingParams`].
        name: &'static str,
        /// Its value.
        value: String,
        /// What it must be.
        expected: &'static str,
    },
    /// There were no logits to choose from.
    #[error("no logits to sample from")]
    NoLogits,
}

impl SamplingParams {
    /// Checks every setting is a number in its range.
    pub fn validate(&self) -> Result<(), SamplingError> {
        let check = |name, v: f32, ok: bool, expected| {
            if ok {
                Ok(())
            } else {
                Err(SamplingError::InvalidParam {
                    name,
                    value: v.to_string(),
                    expected,
                })
            }
        };
        check("temp", self.temp, self.temp.is_finite(), "a finite number")?;
        check(
            "top_p",
            self.top_p,
            self.top_p > 0.0 && self.top_p <= 1.0,
            "in (0, 1]",
        )?;
        check(
            "min_p",
            self.min_p,
            (0.0..=1.0).contains(&self.min_p),
            "in [0, 1]",
        )?;
        check(
            "repeat_penalty",
            self.repeat_penalty,
            self.repeat_penalty.is_finite() && self.repeat_penalty > 0.0,
            "a positive number",
        )?;
        check(
            "frequency_penalty",
            self.frequency_penalty,
            self.frequency_penalty.is_finite(),
            "a finite number",
        )?;
        check(
            "presence_penalty",
            self.presence_penalty,
            self.presence_penalty.is_finite(),
            "a finite number",
        )
    }
}

/// Picks tokens from logits; remembers the last tokens for the penalties.
#[derive(Debug, Clone)]
pub struct Sampler {
    params: SamplingParams,
    penalties: Penalties,
    history: History,
    rng: Rng,
    /// Scratch copy of the logits, reused between calls (they can be 262k floats).
    scratch: Vec<f32>,
}

impl Sampler {
    /// A sampler with `params`, checked by [`SamplingParams::validate`].
    pub fn new(params: SamplingParams) -> Result<Sampler, SamplingError> {
        params.validate()?;
        Ok(Sampler::build(params))
    }

    /// A greedy sampler: the highest logit, no penalties.
    pub fn greedy() -> Sampler {
        Sampler::build(SamplingParams {
            temp: 0.0,
            repeat_penalty: 1.0,
            frequency_penalty: 0.0,
            presence_penalty: 0.0,
            ..SamplingParams::default()
        })
    }

    fn build(params: SamplingParams) -> Sampler {
        Sampler {
            penalties: Penalties {
                repeat: params.repeat_penalty,
                frequency: params.frequency_penalty,
                presence: params.presence_penalty,
            },
            history: History::new(params.repeat_last_n),
            rng: Rng::new(params.seed),
            scratch: Vec::new(),
            params,
        }
    }

    /// The settings.
    pub fn params(&self) -> &SamplingParams {
        &self.params
    }

    /// Chooses the next token from `logits` (one per vocabulary entry). Does not record
    /// it: call [`Sampler::accept`] with the token actually used.
    pub fn sample(&mut self, logits: &[f32]) -> Result<u32, SamplingError> {
        if logits.is_empty() {
            return Err(SamplingError::NoLogits);
        }
        let logits = if self.penalties.is_noop() {
            logits
        } else {
            self.scratch.clear();
            self.scratch.extend_from_slice(logits);
            self.penalties.apply(&self.history, &mut self.scratch);
            &self.scratch[..]
        };
        let p = &self.params;
        if p.temp <= 0.0 {
            return filters::argmax(logits).ok_or(SamplingError::NoLogits);
        }
        let mut c = filters::candidates(logits);
        filters::top_k(&mut c, p.top_k);
        filters::top_p(&mut c, p.top_p);
        filters::min_p(&mut c, p.min_p);
        filters::temperature(&mut c, p.temp);
        let u = self.rng.next_f64();
        filters::draw(&c, u).ok_or(SamplingError::NoLogits)
    }

    /// Records `id` as the newest token of the sequence (prompt or generated), for the
    /// penalties.
    pub fn accept(&mut self, id: u32) {
        self.history.push(id);
    }

    /// Forgets the recorded tokens (the random generator goes on where it was).
    pub fn reset(&mut self) {
        self.history.clear();
    }
}

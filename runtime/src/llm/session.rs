//! [`Session`]: one sequence being evaluated, with its KV cache.

use super::forward::{forward, Logits};
use super::kv_cache::{CacheType, KvCache};
use super::scratch::Scratch;
use super::{LlmError, Model};

/// How a [`Session`] is set up.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SessionParams {
    /// Capacity in tokens.
    pub n_ctx: usize,
    /// Element type of the cached keys (llama.cpp's `--cache-type-k`).
    pub type_k: CacheType,
    /// Element type of the cached values (llama.cpp's `--cache-type-v`).
    pub type_v: CacheType,
}

impl SessionParams {
    /// `n_ctx` tokens with an f16 cache, llama.cpp's default.
    pub fn new(n_ctx: usize) -> SessionParams {
        SessionParams {
            n_ctx,
            type_k: CacheType::F16,
            type_v: CacheType::F16,
        }
    }
}

/// A sequence of tokens evaluated by a [`Model`]: the keys and values of every token so far
/// (a KV cache of `n_ctx` positions, f16 or q8_0) and the logits of the last one.
///
/// Sessions are independent; each borrows the model immutably.
#[derive(Debug)]
pub struct Session<'m> {
    model: &'m Model,
    cache: KvCache,
    scratch: Scratch,
    logits: Vec<f32>,
    n_past: usize,
}

impl<'m> Session<'m> {
    pub(crate) fn new(model: &'m Model, params: &SessionParams) -> Result<Session<'m>, LlmError> {
        let hp = model.hparams();
        let types = [params.type_k, params.type_v];
        let cache = KvCache::new(hp.n_layer, hp.n_head_kv, hp.head_dim, params.n_ctx, types)?;
        Ok(Session {
            model,
            cache,
            scratch: Scratch::new(hp),
            logits: vec![0.0; hp.n_vocab],
            n_past: 0,
        })
    }

    /// The model this session runs.
    pub fn model(&self) -> &'m Model {
        self.model
    }

    /// Appends `tokens` at the current position and returns the logits of the LAST one
    /// (`n_vocab` values).
    ///
    /// The tokens are evaluated in batches (layer by layer, each weight matrix read once
    /// per batch), so a long prompt costs far less than as many single tokens.
    ///
    /// Nothing is evaluated, and the session is unchanged, if `tokens` is empty, holds an
    /// id outside the vocabulary, or does not fit in the remaining context.
    pub fn eval(&mut self, tokens: &[u32]) -> Result<&[f32], LlmError> {
        self.check(tokens)?;
        let cx = self.model.ctx();
        let mut batches = tokens.chunks(self.scratch.max_rows()).peekable();
        while let Some(batch) = batches.next() {
            let logits = match batches.peek() {
                Some(_) => Logits::Skip,
                None => Logits::Last(&mut self.logits),
            };
            let (cache, scratch) = (&mut self.cache, &mut self.scratch);
            forward(&cx, cache, scratch, batch, self.n_past, logits)?;
            self.n_past += batch.len();
        }
        Ok(&self.logits)
    }

    /// Appends `tokens` and returns the logits of EVERY one (`tokens.len() · n_vocab`
    /// values, token-major), e.g. for perplexity.
    pub fn eval_all(&mut self, tokens: &[u32]) -> Result<Vec<f32>, LlmError> {
        self.check(tokens)?;
        let n_vocab = self.logits.len();
        let mut all = vec![0.0; tokens.len() * n_vocab];
        let cx = self.model.ctx();
        let rows = self.scratch.max_rows();
        for (batch, out) in tokens.chunks(rows).zip(all.chunks_mut(rows * n_vocab)) {
            let (cache, scratch) = (&mut self.cache, &mut self.scratch);
            forward(&cx, cache, scratch, batch, self.n_past, Logits::All(out))?;
            self.n_past += batch.len();
        }
        if let Some(last) = all.get(all.len() - n_vocab..) {
            self.logits.copy_from_slice(last);
        }
        Ok(all)
    }

    /// The logits of the last token evaluated (zeros before the first `eval`).
    pub fn logits(&self) -> &[f32] {
        &self.logits
    }

    /// Number of tokens evaluated so far (the position of the next one).
    pub fn n_past(&self) -> usize {
        self.n_past
    }

    /// Capacity of the context in tokens.
    pub fn n_ctx(&self) -> usize {
        self.cache.n_ctx()
    }

    /// Forgets every token, keeping the allocated cache.
    pub fn reset(&mut self) {
        self.n_past = 0;
    }

    /// Forgets the tokens from position `n` on (no-op if `n ≥ n_past`), e.g. to rewind a
    /// chat to a shared prefix.
    pub fn truncate(&mut self, n: usize) {
        self.n_past = self.n_past.min(n);
    }

    fn check(&self, tokens: &[u32]) -> Result<(), LlmError> {
        if tokens.is_empty() {
            return Err(LlmError::EmptyInput);
        }
        let n_vocab = self.logits.len();
        if let Some(&id) = tokens.iter().find(|&&t| t as usize >= n_vocab) {
            return Err(LlmError::TokenOutOfRange { id, n_vocab });
        }
        let n_ctx = self.n_ctx();
        if tokens.len() > n_ctx - self.n_past {
            return Err(LlmError::ContextFull { n_ctx });
        }
        Ok(())
    }
}

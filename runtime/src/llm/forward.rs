//! What every architecture's forward pass shares: the weights of the loaded model (one
//! variant per architecture), the context a pass reads, its working memory, and the
//! dispatch from a token to the architecture's pass.

use edge_formats::GgufFile;
use edge_kernels::{matvec, KernelTable, Pool};
use half::f16;

use super::gemma3::{self, Gemma3Weights};
use super::hparams::{Arch, Hparams};
use super::kv_cache::KvCache;
use super::llama::{self, LlamaWeights};
use super::weights::Linear;
use super::LlmError;

/// The weights of a model, by architecture.
#[derive(Debug)]
pub(crate) enum Weights {
    Llama(LlamaWeights),
    Gemma3(Gemma3Weights),
}

impl Weights {
    /// Finds every tensor `hp.arch` needs and checks shapes and types.
    pub(crate) fn load(file: &GgufFile, hp: &Hparams) -> Result<Weights, LlmError> {
        Ok(match hp.arch {
            Arch::Llama => Weights::Llama(LlamaWeights::load(file, hp)?),
            Arch::Gemma3 => Weights::Gemma3(Gemma3Weights::load(file, hp)?),
        })
    }
}

/// What a forward pass reads: the file holding the weights and how to compute.
pub(crate) struct Ctx<'a> {
    pub file: &'a GgufFile,
    pub hp: &'a Hparams,
    pub weights: &'a Weights,
    pub table: &'static KernelTable,
    /// The threads the matrix products are spread over.
    pub pool: &'a Pool,
}

impl Ctx<'_> {
    /// `y = W·x` with the kernels of this model's device.
    pub(crate) fn matvec(&self, w: &Linear, x: &[f32], y: &mut [f32]) -> Result<(), LlmError> {
        Ok(matvec(self.table, &w.matrix(self.file)?, x, y, self.pool)?)
    }
}

/// Working memory of one forward pass, allocated once per session.
#[derive(Debug)]
pub(crate) struct Scratch {
    /// The residual stream.
    pub x: Vec<f32>,
    /// Normalised input of a sub-block, and the output of its last projection.
    pub xb: Vec<f32>,
    pub q: Vec<f32>,
    pub k: Vec<f32>,
    pub v: Vec<f32>,
    /// Attention output, all heads.
    pub att: Vec<f32>,
    /// Feed-forward gate and up projections.
    pub gate: Vec<f32>,
    pub up: Vec<f32>,
    /// Attention accumulator of one head.
    pub acc: Vec<f16>,
    /// RoPE rotation of the current position (full-attention layers).
    pub cos: Vec<f32>,
    pub sin: Vec<f32>,
    /// RoPE rotation of the current position for sliding-window layers, whose base
    /// differs (empty when the model has none).
    pub cos_swa: Vec<f32>,
    pub sin_swa: Vec<f32>,
}

impl Scratch {
    pub(crate) fn new(hp: &Hparams) -> Scratch {
        // `Hparams::from_gguf` checked these products fit.
        let q_dim = hp.q_dim().unwrap_or(0);
        let kv_dim = hp.kv_dim().unwrap_or(0);
        let half = hp.rope_dims / 2;
        let half_swa = if hp.swa.is_some() { half } else { 0 };
        Scratch {
            x: vec![0.0; hp.n_embd],
            xb: vec![0.0; hp.n_embd],
            q: vec![0.0; q_dim],
            k: vec![0.0; kv_dim],
            v: vec![0.0; kv_dim],
            att: vec![0.0; q_dim],
            gate: vec![0.0; hp.n_ff],
            up: vec![0.0; hp.n_ff],
            acc: vec![f16::ZERO; hp.head_dim],
            cos: vec![0.0; half],
            sin: vec![0.0; half],
            cos_swa: vec![0.0; half_swa],
            sin_swa: vec![0.0; half_swa],
        }
    }
}

/// Runs token `token` at position `pos` through the model, appending its keys and values to
/// `cache`, and writes its logits into `logits` when given (skipping the output projection,
/// the largest matrix, for prompt tokens whose logits nobody reads).
///
/// The caller checks `token < n_vocab` and `pos < cache.n_ctx()`.
pub(crate) fn forward(
    cx: &Ctx<'_>,
    cache: &mut KvCache,
    s: &mut Scratch,
    token: u32,
    pos: usize,
    logits: Option<&mut [f32]>,
) -> Result<(), LlmError> {
    match cx.weights {
        Weights::Llama(w) => llama::forward(cx, w, cache, s, token, pos, logits),
        Weights::Gemma3(w) => gemma3::forward(cx, w, cache, s, token, pos, logits),
    }
}

/// The residual connection: `x += y`.
pub(crate) fn add(x: &mut [f32], y: &[f32]) {
    x.iter_mut().zip(y).for_each(|(x, &y)| *x += y);
}

/// Rounds `x` to f16 precision in place. llama.cpp's attention multiplies the f16 keys by
/// the query converted to f16; rounding ours the same way keeps scores on its grid.
pub(crate) fn round_to_f16(x: &mut [f32]) {
    x.iter_mut().for_each(|v| *v = f16::from_f32(*v).to_f32());
}

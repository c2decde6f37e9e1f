//! What every architecture's forward pass shares: the weights of the loaded model (one
//! variant per architecture), the context a pass reads, and the steps every architecture
//! takes on a batch of tokens.

use edge_formats::GgufFile;
use edge_kernels::{matmul, matmul_multi, ops, KernelError, KernelTable, Pool, QuantMatrix};

use super::gemma3::{self, Gemma3Weights};
use super::hparams::{Arch, Hparams};
use super::kv_cache::KvCache;
use super::llama::{self, LlamaWeights};
use super::scratch::Scratch;
use super::weights::{Embedding, Linear};
use super::LlmError;

/// The weights of a model, by architecture.
#[derive(Debug)]
pub(crate) enum Weights {
    /// `llama`, `qwen2` and `qwen3`, which differ by a few options.
    Llama(LlamaWeights),
    Gemma3(Gemma3Weights),
}

impl Weights {
    /// Finds every tensor `hp.arch` needs and checks shapes and types.
    pub(crate) fn load(file: &GgufFile, hp: &Hparams) -> Result<Weights, LlmError> {
        Ok(match hp.arch {
            Arch::Llama | Arch::Qwen2 | Arch::Qwen3 => {
                Weights::Llama(LlamaWeights::load(file, hp)?)
            }
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
    /// `ys = xs·Wᵀ` for every row of `xs` (one row: `y = W·x`), with the kernels of this
    /// model's device; each weight row is read once for the whole batch.
    pub(crate) fn matmul(&self, w: &Linear, xs: &[f32], ys: &mut [f32]) -> Result<(), LlmError> {
        Ok(matmul(
            self.table,
            &w.matrix(self.file)?,
            xs,
            ys,
            self.pool,
        )?)
    }

    /// The quantized matrix of `w` in this model's file.
    pub(crate) fn matrix(&self, w: &Linear) -> Result<QuantMatrix<'_>, LlmError> {
        w.matrix(self.file)
    }

    /// `ys[i] = xs·Ws[i]ᵀ` for the matrices that share the input `xs` (Q/K/V, gate/up), in
    /// one dispatch to the threads: `xs` is quantized once and the threads meet once.
    pub(crate) fn matmul_multi(
        &self,
        ws: &[QuantMatrix<'_>],
        xs: &[f32],
        ys: &mut [&mut [f32]],
    ) -> Result<(), LlmError> {
        Ok(matmul_multi(self.table, ws, xs, ys, self.pool)?)
    }

    /// `gate ← act(gate) ⊙ up` over every row, rows spread over the threads when the batch
    /// is large enough to pay for it.
    pub(crate) fn glu(
        &self,
        act: fn(&mut [f32], &[f32]) -> Result<(), KernelError>,
        gate: &mut [f32],
        up: &[f32],
        width: usize,
    ) -> Result<(), LlmError> {
        if gate.len() != up.len() || width == 0 {
            act(gate, up)?;
            return Ok(());
        }
        let n = gate.len() / width;
        if n < 2 * self.pool.threads() {
            act(gate, up)?;
            return Ok(());
        }
        let chunk = n.div_ceil(self.pool.threads() * 2) * width;
        // Lengths are equal, so the elementwise products cannot fail.
        self.pool.run_chunks_mut(gate, chunk, |i, g| {
            let _ = act(g, &up[i * chunk..i * chunk + g.len()]);
        });
        Ok(())
    }
}

/// Which logits a pass computes. The output projection is the largest matrix; rows whose
/// logits nobody reads skip it.
pub(crate) enum Logits<'a> {
    /// None: more tokens follow this batch.
    Skip,
    /// The last row's, into `n_vocab` values.
    Last(&'a mut [f32]),
    /// Every row's, token-major (`n · n_vocab` values).
    All(&'a mut [f32]),
}

/// Runs `tokens` at positions `pos..pos + tokens.len()` through the model, appending their
/// keys and values to `cache`, and writes the logits `logits` asks for.
///
/// The caller checks every token `< n_vocab`, `pos + tokens.len() ≤ cache.n_ctx()`, and
/// `1 ≤ tokens.len() ≤ s.max_rows()`.
pub(crate) fn forward(
    cx: &Ctx<'_>,
    cache: &mut KvCache,
    s: &mut Scratch,
    tokens: &[u32],
    pos: usize,
    logits: Logits<'_>,
) -> Result<(), LlmError> {
    let rows = s.rows(tokens.len());
    match cx.weights {
        Weights::Llama(w) => llama::forward(cx, w, cache, rows, tokens, pos, logits),
        Weights::Gemma3(w) => gemma3::forward(cx, w, cache, rows, tokens, pos, logits),
    }
}

/// Looks up the embedding of every token into the rows of `x`.
pub(crate) fn embed(
    cx: &Ctx<'_>,
    table: &Embedding,
    tokens: &[u32],
    x: &mut [f32],
) -> Result<(), LlmError> {
    let width = x.len() / tokens.len().max(1);
    for (&t, row) in tokens.iter().zip(x.chunks_exact_mut(width.max(1))) {
        table.row(cx.file, t as usize, row)?;
    }
    Ok(())
}

/// Fills the rows of `cos`/`sin` with the RoPE rotation of positions `pos, pos + 1, …`.
pub(crate) fn rope_tables(
    hp: &Hparams,
    pos: usize,
    base: f32,
    freq_scale: f32,
    cos: &mut [f32],
    sin: &mut [f32],
) -> Result<(), LlmError> {
    let half = (hp.rope_dims / 2).max(1);
    for (i, (c, s)) in cos
        .chunks_exact_mut(half)
        .zip(sin.chunks_exact_mut(half))
        .enumerate()
    {
        ops::rope_angles_scaled(pos + i, hp.rope_dims, base, freq_scale, c, s)?;
    }
    Ok(())
}

/// RoPE style of an architecture: which elements of a head are rotated together.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Rope {
    /// Adjacent pairs `(2i, 2i+1)` (llama).
    Norm,
    /// Halves `(i, i + d/2)` (NeoX: gemma, qwen).
    Neox,
}

impl Rope {
    /// Rotates every head of every row of `x` (rows of `width` values), row `i` by row `i`
    /// of `cos`/`sin`.
    pub(crate) fn apply(
        self,
        x: &mut [f32],
        width: usize,
        head_dim: usize,
        cos: &[f32],
        sin: &[f32],
    ) -> Result<(), LlmError> {
        let n = x.len() / width.max(1);
        let half = cos.len() / n.max(1);
        let rope = match self {
            Rope::Norm => ops::rope_norm,
            Rope::Neox => ops::rope_neox,
        };
        for ((row, c), s) in x
            .chunks_exact_mut(width.max(1))
            .zip(cos.chunks_exact(half.max(1)))
            .zip(sin.chunks_exact(half.max(1)))
        {
            rope(row, head_dim, c, s)?;
        }
        Ok(())
    }
}

/// `out ← rms_norm(x) ⊙ weight` for every row (rows of `weight.len()` values).
pub(crate) fn norm_rows(
    x: &[f32],
    weight: &[f32],
    eps: f32,
    out: &mut [f32],
) -> Result<(), LlmError> {
    let width = weight.len().max(1);
    if x.len() != out.len() || !x.len().is_multiple_of(width) {
        return Err(bad_length("rms_norm rows", width, x.len()));
    }
    for (x, out) in x.chunks_exact(width).zip(out.chunks_exact_mut(width)) {
        ops::rms_norm_mul(x, weight, eps, out)?;
    }
    Ok(())
}

/// `x ← rms_norm(x) ⊙ weight` for every `weight.len()`-wide chunk of `x` (every row, or
/// every head of every row for the Q/K norms), in place.
pub(crate) fn norm_chunks(x: &mut [f32], weight: &[f32], eps: f32) -> Result<(), LlmError> {
    let width = weight.len().max(1);
    if !x.len().is_multiple_of(width) {
        return Err(bad_length("rms_norm input", width, x.len()));
    }
    for chunk in x.chunks_exact_mut(width) {
        ops::rms_norm(chunk, eps);
        chunk.iter_mut().zip(weight).for_each(|(v, &w)| *v *= w);
    }
    Ok(())
}

/// Adds `bias` to every row of `x` (rows of `bias.len()` values).
pub(crate) fn add_bias(x: &mut [f32], bias: &[f32]) {
    for row in x.chunks_exact_mut(bias.len().max(1)) {
        add(row, bias);
    }
}

/// The final norm and output projection of the rows `logits` asks for, then the softcap
/// `cap · tanh(logit / cap)` when given. `x` is the residual stream of every row and `xb`
/// scratch of the same size.
pub(crate) fn output(
    cx: &Ctx<'_>,
    norm: &[f32],
    w: &Linear,
    x: &[f32],
    xb: &mut [f32],
    logits: Logits<'_>,
) -> Result<(), LlmError> {
    let eps = cx.hp.rms_eps;
    let width = norm.len();
    let (rows, logits) = match logits {
        Logits::Skip => return Ok(()),
        Logits::Last(out) => {
            let last = x.len().saturating_sub(width);
            (last..x.len(), out)
        }
        Logits::All(out) => (0..x.len(), out),
    };
    let xb = &mut xb[..rows.len()];
    norm_rows(&x[rows.clone()], norm, eps, xb)?;
    cx.matmul(w, xb, logits)?;
    if let Some(cap) = cx.hp.logit_softcap {
        logits.iter_mut().for_each(|v| *v = cap * (*v / cap).tanh());
    }
    Ok(())
}

/// The residual connection: `x += y`.
pub(crate) fn add(x: &mut [f32], y: &[f32]) {
    x.iter_mut().zip(y).for_each(|(x, &y)| *x += y);
}

fn bad_length(what: &'static str, expected: usize, found: usize) -> LlmError {
    LlmError::Kernel(KernelError::BadLength {
        what,
        expected,
        found,
        unit: "elements",
    })
}

//! The `gemma3` architecture (text): blocks of grouped-query attention, with RMS-normed
//! queries and keys per head, NeoX RoPE whose base depends on whether the layer is local
//! (sliding window) or global, and norms both before and after each sub-block; a GeGLU
//! feed-forward; embeddings scaled by `sqrt(n_embd)`; the output tied to the embedding.
//!
//! Gemma's RMS norms multiply by `1 + w`; the GGUF converter stores `1 + w`, so the norm
//! weights are used as they are.

use edge_formats::GgufFile;
use edge_kernels::ops;

use super::attention::{store_and_attend, AttnRows};
use super::forward::{add, embed, norm_chunks, norm_rows, output, rope_tables, Ctx, Logits, Rope};
use super::hparams::Hparams;
use super::kv_cache::KvCache;
use super::scratch::Rows;
use super::weights::{vector, Embedding, Linear};
use super::LlmError;

/// One transformer block.
#[derive(Debug)]
struct Layer {
    attn_norm: Vec<f32>,
    wq: Linear,
    wk: Linear,
    wv: Linear,
    /// Per-head norms of the queries and keys (`head_dim` each).
    q_norm: Vec<f32>,
    k_norm: Vec<f32>,
    wo: Linear,
    /// Norm of the attention output, before the residual add.
    post_attn_norm: Vec<f32>,
    ffn_norm: Vec<f32>,
    ffn_gate: Linear,
    ffn_up: Linear,
    ffn_down: Linear,
    /// Norm of the feed-forward output, before the residual add.
    post_ffn_norm: Vec<f32>,
}

/// All weights of a Gemma 3 model.
#[derive(Debug)]
pub(crate) struct Gemma3Weights {
    token_embd: Embedding,
    layers: Vec<Layer>,
    output_norm: Vec<f32>,
    output: Linear,
    /// `sqrt(n_embd)`, the scale of the embeddings entering the first block.
    embd_scale: f32,
}

impl Gemma3Weights {
    /// Finds every tensor and checks its shape against `hp` and its type against the
    /// kernels.
    pub(crate) fn load(file: &GgufFile, hp: &Hparams) -> Result<Gemma3Weights, LlmError> {
        let (q_dim, kv_dim) = hp.attention_dims()?;
        let (n_embd, n_ff, hd) = (hp.n_embd, hp.n_ff, hp.head_dim);
        let token_embd = Embedding::load(file, "token_embd.weight", n_embd, hp.n_vocab)?;
        let mut layers = Vec::with_capacity(hp.n_layer);
        for i in 0..hp.n_layer {
            let name = |t: &str| format!("blk.{i}.{t}.weight");
            let linear = |t: &str, cols, rows| Linear::load(file, &name(t), cols, rows);
            let norm = |t: &str, len| vector(file, &name(t), len);
            layers.push(Layer {
                attn_norm: norm("attn_norm", n_embd)?,
                wq: linear("attn_q", n_embd, q_dim)?,
                wk: linear("attn_k", n_embd, kv_dim)?,
                wv: linear("attn_v", n_embd, kv_dim)?,
                q_norm: norm("attn_q_norm", hd)?,
                k_norm: norm("attn_k_norm", hd)?,
                wo: linear("attn_output", q_dim, n_embd)?,
                post_attn_norm: norm("post_attention_norm", n_embd)?,
                ffn_norm: norm("ffn_norm", n_embd)?,
                ffn_gate: linear("ffn_gate", n_embd, n_ff)?,
                ffn_up: linear("ffn_up", n_embd, n_ff)?,
                ffn_down: linear("ffn_down", n_ff, n_embd)?,
                post_ffn_norm: norm("post_ffw_norm", n_embd)?,
            });
        }
        // Released Gemma 3 files tie the output to the embedding; honour an own `output`.
        let output = match file.tensor("output.weight") {
            Some(_) => Linear::load(file, "output.weight", n_embd, hp.n_vocab)?,
            None => token_embd.as_linear(file)?,
        };
        Ok(Gemma3Weights {
            token_embd,
            layers,
            output_norm: vector(file, "output_norm.weight", n_embd)?,
            output,
            embd_scale: (n_embd as f32).sqrt(),
        })
    }
}

/// The Gemma 3 forward pass of a batch of tokens; see [`super::forward::forward`].
pub(crate) fn forward(
    cx: &Ctx<'_>,
    w: &Gemma3Weights,
    cache: &mut KvCache,
    r: Rows<'_>,
    tokens: &[u32],
    pos: usize,
    logits: Logits<'_>,
) -> Result<(), LlmError> {
    let hp = cx.hp;
    let eps = hp.rms_eps;
    let hd = hp.head_dim;
    let (q_dim, kv_dim) = hp.attention_dims()?;

    embed(cx, &w.token_embd, tokens, r.x)?;
    r.x.iter_mut().for_each(|v| *v *= w.embd_scale);
    rope_tables(hp, pos, hp.rope_base, hp.rope_freq_scale, r.cos, r.sin)?;
    if let Some(swa) = &hp.swa {
        rope_tables(hp, pos, swa.rope_base, 1.0, r.cos_swa, r.sin_swa)?;
    }

    for (l, layer) in w.layers.iter().enumerate() {
        let window = hp.window(l);
        // Attention.
        norm_rows(r.x, &layer.attn_norm, eps, r.xb)?;
        cx.matmul_multi(
            &[
                cx.matrix(&layer.wq)?,
                cx.matrix(&layer.wk)?,
                cx.matrix(&layer.wv)?,
            ],
            r.xb,
            &mut [&mut *r.q, &mut *r.k, &mut *r.v],
        )?;
        norm_chunks(r.q, &layer.q_norm, eps)?;
        norm_chunks(r.k, &layer.k_norm, eps)?;
        let (cos, sin) = match window {
            Some(_) => (&*r.cos_swa, &*r.sin_swa),
            None => (&*r.cos, &*r.sin),
        };
        Rope::Neox.apply(r.q, q_dim, hd, cos, sin)?;
        Rope::Neox.apply(r.k, kv_dim, hd, cos, sin)?;
        // llama.cpp scales the query (not the scores), then rounds it to f16 for the
        // product with the f16 keys; doing both in that order keeps us on its grid.
        r.q.iter_mut().for_each(|v| *v *= hp.attn_scale);
        // A local layer sees the last `window` positions, itself included.
        let rows = AttnRows {
            q: &mut *r.q,
            k: &*r.k,
            v: &*r.v,
            out: &mut *r.att,
            pos,
        };
        store_and_attend(cx, cache, l, rows, window, 1.0)?;
        cx.matmul(&layer.wo, r.att, r.xb)?;
        norm_chunks(r.xb, &layer.post_attn_norm, eps)?;
        add(r.x, r.xb);

        // Feed-forward (GeGLU).
        norm_rows(r.x, &layer.ffn_norm, eps, r.xb)?;
        cx.matmul_multi(
            &[cx.matrix(&layer.ffn_gate)?, cx.matrix(&layer.ffn_up)?],
            r.xb,
            &mut [&mut *r.gate, &mut *r.up],
        )?;
        // Exact GELU. llama.cpp's CPU backend reads it from an f16 table instead; trying
        // that moved this model's perplexity by 0.8% but no closer to llama.cpp's overall
        // (it is that sensitive), so the model's own definition is kept.
        cx.glu(ops::gelu_tanh_mul, r.gate, r.up, hp.n_ff)?;
        cx.matmul(&layer.ffn_down, r.gate, r.xb)?;
        norm_chunks(r.xb, &layer.post_ffn_norm, eps)?;
        add(r.x, r.xb);
    }

    // The softcap, when the model has one, is applied by `output`.
    output(cx, &w.output_norm, &w.output, r.x, r.xb, logits)
}

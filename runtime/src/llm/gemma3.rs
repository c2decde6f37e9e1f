//! The `gemma3` architecture (text): blocks of grouped-query attention, with RMS-normed
//! queries and keys per head, NeoX RoPE whose base depends on whether the layer is local
//! (sliding window) or global, and norms both before and after each sub-block; a GeGLU
//! feed-forward; embeddings scaled by `sqrt(n_embd)`; the output tied to the embedding.
//!
//! Gemma's RMS norms multiply by `1 + w`; the GGUF converter stores `1 + w`, so the norm
//! weights are used as they are.

use edge_formats::GgufFile;
use edge_kernels::ops;

use super::forward::{add, round_to_f16, Ctx, Scratch};
use super::hparams::Hparams;
use super::kv_cache::KvCache;
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

/// The Gemma 3 forward pass of one token; see [`super::forward::forward`].
pub(crate) fn forward(
    cx: &Ctx<'_>,
    w: &Gemma3Weights,
    cache: &mut KvCache,
    s: &mut Scratch,
    token: u32,
    pos: usize,
    logits: Option<&mut [f32]>,
) -> Result<(), LlmError> {
    let hp = cx.hp;
    let eps = hp.rms_eps;
    let hd = hp.head_dim;
    let group = hp.n_head / hp.n_head_kv;

    w.token_embd.row(cx.file, token as usize, &mut s.x)?;
    s.x.iter_mut().for_each(|v| *v *= w.embd_scale);
    ops::rope_angles_scaled(
        pos,
        hp.rope_dims,
        hp.rope_base,
        hp.rope_freq_scale,
        &mut s.cos,
        &mut s.sin,
    )?;
    if let Some(swa) = &hp.swa {
        ops::rope_angles(
            pos,
            hp.rope_dims,
            swa.rope_base,
            &mut s.cos_swa,
            &mut s.sin_swa,
        )?;
    }

    for (l, layer) in w.layers.iter().enumerate() {
        let window = hp.window(l);
        // Attention.
        ops::rms_norm_mul(&s.x, &layer.attn_norm, eps, &mut s.xb)?;
        cx.matvec(&layer.wq, &s.xb, &mut s.q)?;
        cx.matvec(&layer.wk, &s.xb, &mut s.k)?;
        cx.matvec(&layer.wv, &s.xb, &mut s.v)?;
        norm_heads(&mut s.q, &layer.q_norm, eps)?;
        norm_heads(&mut s.k, &layer.k_norm, eps)?;
        let (cos, sin) = match window {
            Some(_) => (&s.cos_swa, &s.sin_swa),
            None => (&s.cos, &s.sin),
        };
        ops::rope_neox(&mut s.q, hd, cos, sin)?;
        ops::rope_neox(&mut s.k, hd, cos, sin)?;
        cache.store(l, pos, &s.k, &s.v);
        // llama.cpp scales the query (not the scores), then rounds it to f16 for the
        // product with the f16 keys; doing both in that order keeps us on its grid.
        s.q.iter_mut().for_each(|v| *v *= hp.attn_scale);
        round_to_f16(&mut s.q);
        // A local layer sees the last `window` positions, itself included.
        let first = window.map_or(0, |win| (pos + 1).saturating_sub(win));
        for (h, (qh, out)) in
            s.q.chunks_exact(hd)
                .zip(s.att.chunks_exact_mut(hd))
                .enumerate()
        {
            let (keys, values) = cache.head(l, h / group, first..pos + 1);
            cx.table.attend(qh, keys, values, 1.0, &mut s.acc, out)?;
        }
        cx.matvec(&layer.wo, &s.att, &mut s.xb)?;
        norm_in_place(&mut s.xb, &layer.post_attn_norm, eps)?;
        add(&mut s.x, &s.xb);

        // Feed-forward (GeGLU).
        ops::rms_norm_mul(&s.x, &layer.ffn_norm, eps, &mut s.xb)?;
        cx.matvec(&layer.ffn_gate, &s.xb, &mut s.gate)?;
        cx.matvec(&layer.ffn_up, &s.xb, &mut s.up)?;
        // Exact GELU. llama.cpp's CPU backend reads it from an f16 table instead; trying
        // that moved this model's perplexity by 0.8% but no closer to llama.cpp's overall
        // (it is that sensitive), so the model's own definition is kept.
        ops::gelu_tanh_mul(&mut s.gate, &s.up)?;
        cx.matvec(&layer.ffn_down, &s.gate, &mut s.xb)?;
        norm_in_place(&mut s.xb, &layer.post_ffn_norm, eps)?;
        add(&mut s.x, &s.xb);
    }

    if let Some(logits) = logits {
        ops::rms_norm_mul(&s.x, &w.output_norm, eps, &mut s.xb)?;
        cx.matvec(&w.output, &s.xb, logits)?;
        if let Some(cap) = hp.logit_softcap {
            logits.iter_mut().for_each(|v| *v = cap * (*v / cap).tanh());
        }
    }
    Ok(())
}

/// `x ← rms_norm(x) ⊙ weight`, in place.
fn norm_in_place(x: &mut [f32], weight: &[f32], eps: f32) -> Result<(), LlmError> {
    if x.len() != weight.len() {
        return Err(LlmError::Kernel(edge_kernels::KernelError::BadLength {
            what: "rms_norm weight",
            expected: x.len(),
            found: weight.len(),
            unit: "elements",
        }));
    }
    ops::rms_norm(x, eps);
    x.iter_mut().zip(weight).for_each(|(v, &w)| *v *= w);
    Ok(())
}

/// RMS-normalises every `weight.len()`-wide head of `x` on its own and scales it by
/// `weight` (the Q/K norms).
fn norm_heads(x: &mut [f32], weight: &[f32], eps: f32) -> Result<(), LlmError> {
    x.chunks_exact_mut(weight.len())
        .try_for_each(|head| norm_in_place(head, weight, eps))
}

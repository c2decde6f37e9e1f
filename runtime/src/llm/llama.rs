//! The `llama` architecture: pre-norm blocks of grouped-query attention with RoPE (normal,
//! adjacent-pair layout) and a SwiGLU feed-forward, RMS norms throughout.

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
    wo: Linear,
    ffn_norm: Vec<f32>,
    ffn_gate: Linear,
    ffn_up: Linear,
    ffn_down: Linear,
}

/// All weights of a llama model.
#[derive(Debug)]
pub(crate) struct LlamaWeights {
    token_embd: Embedding,
    layers: Vec<Layer>,
    output_norm: Vec<f32>,
    output: Linear,
}

impl LlamaWeights {
    /// Finds every tensor and checks its shape against `hp` and its type against the
    /// kernels.
    pub(crate) fn load(file: &GgufFile, hp: &Hparams) -> Result<LlamaWeights, LlmError> {
        let (q_dim, kv_dim) = hp.attention_dims()?;
        let (n_embd, n_ff) = (hp.n_embd, hp.n_ff);
        let token_embd = Embedding::load(file, "token_embd.weight", n_embd, hp.n_vocab)?;
        let mut layers = Vec::new();
        for i in 0..hp.n_layer {
            let linear = |name: &str, cols, rows| {
                Linear::load(file, &format!("blk.{i}.{name}.weight"), cols, rows)
            };
            layers.push(Layer {
                attn_norm: vector(file, &format!("blk.{i}.attn_norm.weight"), n_embd)?,
                wq: linear("attn_q", n_embd, q_dim)?,
                wk: linear("attn_k", n_embd, kv_dim)?,
                wv: linear("attn_v", n_embd, kv_dim)?,
                wo: linear("attn_output", q_dim, n_embd)?,
                ffn_norm: vector(file, &format!("blk.{i}.ffn_norm.weight"), n_embd)?,
                ffn_gate: linear("ffn_gate", n_embd, n_ff)?,
                ffn_up: linear("ffn_up", n_embd, n_ff)?,
                ffn_down: linear("ffn_down", n_ff, n_embd)?,
            });
        }
        // Without its own `output` tensor the model ties the output projection to the
        // token embedding (SmolLM2 does).
        let output = match file.tensor("output.weight") {
            Some(_) => Linear::load(file, "output.weight", n_embd, hp.n_vocab)?,
            None => token_embd.as_linear(file)?,
        };
        Ok(LlamaWeights {
            token_embd,
            layers,
            output_norm: vector(file, "output_norm.weight", n_embd)?,
            output,
        })
    }
}

/// The llama forward pass of one token; see [`super::forward::forward`].
pub(crate) fn forward(
    cx: &Ctx<'_>,
    w: &LlamaWeights,
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
    let scale = hp.attn_scale;

    w.token_embd.row(cx.file, token as usize, &mut s.x)?;
    ops::rope_angles_scaled(
        pos,
        hp.rope_dims,
        hp.rope_base,
        hp.rope_freq_scale,
        &mut s.cos,
        &mut s.sin,
    )?;

    for (l, layer) in w.layers.iter().enumerate() {
        // Attention.
        ops::rms_norm_mul(&s.x, &layer.attn_norm, eps, &mut s.xb)?;
        cx.matvec(&layer.wq, &s.xb, &mut s.q)?;
        cx.matvec(&layer.wk, &s.xb, &mut s.k)?;
        cx.matvec(&layer.wv, &s.xb, &mut s.v)?;
        ops::rope_norm(&mut s.q, hd, &s.cos, &s.sin)?;
        ops::rope_norm(&mut s.k, hd, &s.cos, &s.sin)?;
        cache.store(l, pos, &s.k, &s.v);
        round_to_f16(&mut s.q);
        for (h, (qh, out)) in
            s.q.chunks_exact(hd)
                .zip(s.att.chunks_exact_mut(hd))
                .enumerate()
        {
            let (keys, values) = cache.head(l, h / group, 0..pos + 1);
            cx.table.attend(qh, keys, values, scale, &mut s.acc, out)?;
        }
        cx.matvec(&layer.wo, &s.att, &mut s.xb)?;
        add(&mut s.x, &s.xb);

        // Feed-forward (SwiGLU).
        ops::rms_norm_mul(&s.x, &layer.ffn_norm, eps, &mut s.xb)?;
        cx.matvec(&layer.ffn_gate, &s.xb, &mut s.gate)?;
        cx.matvec(&layer.ffn_up, &s.xb, &mut s.up)?;
        ops::silu_mul(&mut s.gate, &s.up)?;
        cx.matvec(&layer.ffn_down, &s.gate, &mut s.xb)?;
        add(&mut s.x, &s.xb);
    }

    if let Some(logits) = logits {
        ops::rms_norm_mul(&s.x, &w.output_norm, eps, &mut s.xb)?;
        cx.matvec(&w.output, &s.xb, logits)?;
    }
    Ok(())
}

//! The `llama` architecture and its close relatives `qwen2` and `qwen3`: pre-norm blocks of
//! grouped-query attention with RoPE and a SwiGLU feed-forward, RMS norms throughout.
//!
//! The relatives differ by a few options ([`Variant`]): llama rotates adjacent pairs
//! (normal RoPE), the qwens rotate halves (NeoX); qwen2 adds biases to the Q/K/V
//! projections; qwen3 RMS-normalises each query and key head before RoPE (with the weight
//! as stored, not gemma's `1 + w`).

use edge_formats::GgufFile;
use edge_kernels::ops;

use super::attention::{store_and_attend, AttnRows};
use super::forward::{
    add, add_bias, embed, norm_chunks, norm_rows, output, rope_tables, Ctx, Logits, Rope,
};
use super::hparams::{Arch, Hparams};
use super::kv_cache::KvCache;
use super::scratch::Rows;
use super::weights::{vector, Embedding, Linear};
use super::LlmError;

/// What sets an architecture of this family apart.
#[derive(Clone, Copy, Debug)]
struct Variant {
    rope: Rope,
    /// Biases on the Q/K/V projections (`attn_q.bias`, …).
    qkv_bias: bool,
    /// Per-head RMS norms of queries and keys (`attn_q_norm`, `attn_k_norm`).
    qk_norm: bool,
}

impl Variant {
    fn of(arch: Arch) -> Variant {
        match arch {
            Arch::Qwen2 => Variant {
                rope: Rope::Neox,
                qkv_bias: true,
                qk_norm: false,
            },
            Arch::Qwen3 => Variant {
                rope: Rope::Neox,
                qkv_bias: false,
                qk_norm: true,
            },
            _ => Variant {
                rope: Rope::Norm,
                qkv_bias: false,
                qk_norm: false,
            },
        }
    }
}

/// Biases of the Q, K and V projections.
#[derive(Debug)]
struct QkvBias {
    q: Vec<f32>,
    k: Vec<f32>,
    v: Vec<f32>,
}

/// Per-head norms of the queries and keys (`head_dim` each).
#[derive(Debug)]
struct QkNorm {
    q: Vec<f32>,
    k: Vec<f32>,
}

/// One transformer block.
#[derive(Debug)]
struct Layer {
    attn_norm: Vec<f32>,
    wq: Linear,
    wk: Linear,
    wv: Linear,
    bias: Option<QkvBias>,
    qk_norm: Option<QkNorm>,
    wo: Linear,
    ffn_norm: Vec<f32>,
    ffn_gate: Linear,
    ffn_up: Linear,
    ffn_down: Linear,
}

/// All weights of a llama, qwen2 or qwen3 model.
#[derive(Debug)]
pub(crate) struct LlamaWeights {
    variant: Variant,
    token_embd: Embedding,
    layers: Vec<Layer>,
    output_norm: Vec<f32>,
    output: Linear,
}

impl LlamaWeights {
    /// Finds every tensor and checks its shape against `hp` and its type against the
    /// kernels.
    pub(crate) fn load(file: &GgufFile, hp: &Hparams) -> Result<LlamaWeights, LlmError> {
        let variant = Variant::of(hp.arch);
        let (q_dim, kv_dim) = hp.attention_dims()?;
        let (n_embd, n_ff, hd) = (hp.n_embd, hp.n_ff, hp.head_dim);
        let token_embd = Embedding::load(file, "token_embd.weight", n_embd, hp.n_vocab)?;
        let mut layers = Vec::with_capacity(hp.n_layer);
        for i in 0..hp.n_layer {
            let linear = |name: &str, cols, rows| {
                Linear::load(file, &format!("blk.{i}.{name}.weight"), cols, rows)
            };
            let weight = |name: &str, len| vector(file, &format!("blk.{i}.{name}.weight"), len);
            let bias = |name: &str, len| vector(file, &format!("blk.{i}.{name}.bias"), len);
            layers.push(Layer {
                attn_norm: weight("attn_norm", n_embd)?,
                wq: linear("attn_q", n_embd, q_dim)?,
                wk: linear("attn_k", n_embd, kv_dim)?,
                wv: linear("attn_v", n_embd, kv_dim)?,
                bias: match variant.qkv_bias {
                    true => Some(QkvBias {
                        q: bias("attn_q", q_dim)?,
                        k: bias("attn_k", kv_dim)?,
                        v: bias("attn_v", kv_dim)?,
                    }),
                    false => None,
                },
                qk_norm: match variant.qk_norm {
                    true => Some(QkNorm {
                        q: weight("attn_q_norm", hd)?,
                        k: weight("attn_k_norm", hd)?,
                    }),
                    false => None,
                },
                wo: linear("attn_output", q_dim, n_embd)?,
                ffn_norm: weight("ffn_norm", n_embd)?,
                ffn_gate: linear("ffn_gate", n_embd, n_ff)?,
                ffn_up: linear("ffn_up", n_embd, n_ff)?,
                ffn_down: linear("ffn_down", n_ff, n_embd)?,
            });
        }
        // Without its own `output` tensor the model ties the output projection to the
        // token embedding (SmolLM2 and the small qwens do).
        let output = match file.tensor("output.weight") {
            Some(_) => Linear::load(file, "output.weight", n_embd, hp.n_vocab)?,
            None => token_embd.as_linear(file)?,
        };
        Ok(LlamaWeights {
            variant,
            token_embd,
            layers,
            output_norm: vector(file, "output_norm.weight", n_embd)?,
            output,
        })
    }
}

/// The forward pass of a batch of tokens; see [`super::forward::forward`].
pub(crate) fn forward(
    cx: &Ctx<'_>,
    w: &LlamaWeights,
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
    let (base, scale) = (hp.rope_base, hp.rope_freq_scale);
    rope_tables(hp, pos, base, scale, r.cos, r.sin)?;

    for (l, layer) in w.layers.iter().enumerate() {
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
        if let Some(b) = &layer.bias {
            add_bias(r.q, &b.q);
            add_bias(r.k, &b.k);
            add_bias(r.v, &b.v);
        }
        if let Some(norm) = &layer.qk_norm {
            norm_chunks(r.q, &norm.q, eps)?;
            norm_chunks(r.k, &norm.k, eps)?;
        }
        w.variant.rope.apply(r.q, q_dim, hd, r.cos, r.sin)?;
        w.variant.rope.apply(r.k, kv_dim, hd, r.cos, r.sin)?;
        let rows = AttnRows {
            q: &mut *r.q,
            k: &*r.k,
            v: &*r.v,
            out: &mut *r.att,
            pos,
        };
        store_and_attend(cx, cache, l, rows, None, hp.attn_scale)?;
        cx.matmul(&layer.wo, r.att, r.xb)?;
        add(r.x, r.xb);

        // Feed-forward (SwiGLU).
        norm_rows(r.x, &layer.ffn_norm, eps, r.xb)?;
        cx.matmul_multi(
            &[cx.matrix(&layer.ffn_gate)?, cx.matrix(&layer.ffn_up)?],
            r.xb,
            &mut [&mut *r.gate, &mut *r.up],
        )?;
        cx.glu(ops::silu_mul, r.gate, r.up, hp.n_ff)?;
        cx.matmul(&layer.ffn_down, r.gate, r.xb)?;
        add(r.x, r.xb);
    }

    output(cx, &w.output_norm, &w.output, r.x, r.xb, logits)
}

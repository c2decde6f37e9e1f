//! Hyperparameters of a model, read from GGUF metadata and checked for consistency.

use edge_formats::{Array, GgufError, GgufFile, Value};

use super::LlmError;

/// The model architectures this runtime implements.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Arch {
    /// Llama and its descendants (SmolLM2, TinyLlama, …).
    Llama,
    /// Qwen 2 (and 2.5): llama with NeoX RoPE and biases on the Q/K/V projections.
    Qwen2,
    /// Qwen 3 (dense): llama with NeoX RoPE and per-head RMS norms of the queries and keys.
    Qwen3,
    /// Gemma 3 (text): interleaved sliding-window and global attention, per-head Q/K
    /// norms, post-norms and a GeGLU feed-forward.
    Gemma3,
}

impl Arch {
    /// The architecture named by `general.architecture`.
    pub(crate) fn from_name(name: &str) -> Option<Arch> {
        match name {
            "llama" => Some(Arch::Llama),
            "qwen2" => Some(Arch::Qwen2),
            "qwen3" => Some(Arch::Qwen3),
            "gemma3" => Some(Arch::Gemma3),
            _ => None,
        }
    }

    /// The prefix of the architecture's metadata keys (`llama.block_count`, …).
    pub(crate) fn name(self) -> &'static str {
        match self {
            Arch::Llama => "llama",
            Arch::Qwen2 => "qwen2",
            Arch::Qwen3 => "qwen3",
            Arch::Gemma3 => "gemma3",
        }
    }
}

/// Sliding-window (local) attention: which layers use it, how far they see, and their own
/// RoPE base.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Swa {
    /// A local layer at position `p` attends to positions `p - window + 1 ..= p` only.
    pub window: usize,
    /// `layers[i]` is true when layer `i` is local (the others attend to everything).
    pub layers: Vec<bool>,
    /// RoPE frequency base of the local layers (no position scaling).
    pub rope_base: f32,
}

/// The shape and constants of a decoder-only transformer.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Hparams {
    pub arch: Arch,
    /// Context length the model was trained with.
    pub n_ctx_train: usize,
    /// Width of the residual stream.
    pub n_embd: usize,
    /// Number of transformer blocks.
    pub n_layer: usize,
    /// Inner width of the feed-forward block.
    pub n_ff: usize,
    /// Query heads.
    pub n_head: usize,
    /// Key/value heads (grouped-query attention: each serves `n_head / n_head_kv` query heads).
    pub n_head_kv: usize,
    /// Width of one head.
    pub head_dim: usize,
    /// Leading dimensions of each head that RoPE rotates (even, ≤ `head_dim`).
    pub rope_dims: usize,
    /// RoPE frequency base (of the full-attention layers where the two kinds differ).
    pub rope_base: f32,
    /// Linear RoPE position scale of the full-attention layers (`1 / rope.scaling.factor`).
    pub rope_freq_scale: f32,
    /// Sliding-window attention, when the model interleaves local layers.
    pub swa: Option<Swa>,
    /// Factor applied to the attention scores `q·k`.
    pub attn_scale: f32,
    /// `cap` of a final `cap · tanh(logit / cap)`; `None` leaves the logits alone.
    pub logit_softcap: Option<f32>,
    /// Epsilon of the RMS norms.
    pub rms_eps: f32,
    /// Vocabulary size.
    pub n_vocab: usize,
}

impl Hparams {
    /// Reads and validates the hyperparameters of `arch` from `file`. `n_tokens` is the
    /// length of the tokenizer's vocabulary, the fallback for `{arch}.vocab_size`.
    pub(crate) fn from_gguf(
        file: &GgufFile,
        arch: Arch,
        n_tokens: usize,
    ) -> Result<Hparams, LlmError> {
        let m = Meta {
            file,
            prefix: arch.name(),
        };
        let n_embd = m.positive("embedding_length")?;
        let n_head = m.positive("attention.head_count")?;
        let n_head_kv = m.positive_or("attention.head_count_kv", n_head)?;
        if !n_head.is_multiple_of(n_head_kv) {
            return Err(m.bad(
                "attention.head_count_kv",
                format!("{n_head_kv} key/value heads do not divide {n_head} query heads"),
            ));
        }
        // The head width is n_embd / n_head unless the file says otherwise. Gemma 3's never
        // is (256 for 640 / 4 heads), so its files must say.
        let key_length = m.opt_usize("attention.key_length")?;
        if arch == Arch::Gemma3 && key_length.is_none() {
            return Err(m.missing("attention.key_length"));
        }
        let head_dim = match key_length {
            Some(d) if d == 0 || !d.is_multiple_of(2) => {
                return Err(m.bad(
                    "attention.key_length",
                    format!("head width {d} must be even and non-zero"),
                ));
            }
            Some(d) => d,
            None if !n_embd.is_multiple_of(n_head) || !(n_embd / n_head).is_multiple_of(2) => {
                return Err(m.bad(
                    "attention.head_count",
                    format!("{n_head} heads do not split the embedding length {n_embd} into even head widths"),
                ));
            }
            None => n_embd / n_head,
        };
        if let Some(v) = m.opt_usize("attention.value_length")? {
            if v != head_dim {
                return Err(m.bad(
                    "attention.value_length",
                    format!("{v} differs from the key length {head_dim}, which this runtime does not support"),
                ));
            }
        }
        let rope_dims = m.opt_usize("rope.dimension_count")?.unwrap_or(head_dim);
        if rope_dims == 0 || !rope_dims.is_multiple_of(2) || rope_dims > head_dim {
            return Err(m.bad(
                "rope.dimension_count",
                format!("{rope_dims} must be even, non-zero and at most the head width {head_dim}"),
            ));
        }
        let rope_base = m.opt_f32("rope.freq_base")?.unwrap_or(10000.0);
        if !(rope_base.is_finite() && rope_base > 1.0) {
            return Err(m.bad(
                "rope.freq_base",
                format!("{rope_base} must be a finite number above 1"),
            ));
        }
        let rms_eps = m
            .opt_f32("attention.layer_norm_rms_epsilon")?
            .ok_or_else(|| m.missing("attention.layer_norm_rms_epsilon"))?;
        if !(rms_eps.is_finite() && rms_eps >= 0.0) {
            return Err(m.bad(
                "attention.layer_norm_rms_epsilon",
                format!("{rms_eps} must be finite and non-negative"),
            ));
        }
        let rope_freq_scale = rope_freq_scale(&m)?;
        let n_layer = m.positive("block_count")?;
        let (swa, attn_scale, logit_softcap) = match arch {
            Arch::Llama | Arch::Qwen2 | Arch::Qwen3 => (None, 1.0 / (head_dim as f32).sqrt(), None),
            Arch::Gemma3 => gemma3_extras(&m, n_layer, n_embd, n_head, head_dim)?,
        };
        let n_vocab = m.positive_or("vocab_size", n_tokens)?;
        if n_vocab == 0 {
            return Err(m.bad("vocab_size", "the vocabulary is empty".into()));
        }
        let hp = Hparams {
            arch,
            n_ctx_train: m.positive("context_length")?,
            n_embd,
            n_layer,
            n_ff: m.positive("feed_forward_length")?,
            n_head,
            n_head_kv,
            head_dim,
            rope_dims,
            rope_base,
            rope_freq_scale,
            swa,
            attn_scale,
            logit_softcap,
            rms_eps,
            n_vocab,
        };
        // Every buffer size derived below must fit; reject absurd values here, once.
        for (key, n) in [
            ("attention.head_count", hp.q_dim()),
            ("attention.head_count_kv", hp.kv_dim()),
        ] {
            if n.is_none() {
                return Err(m.bad(key, "head count × head width overflows".into()));
            }
        }
        Ok(hp)
    }

    /// The sliding window of layer `layer`, or `None` when it attends to every position.
    pub(crate) fn window(&self, layer: usize) -> Option<usize> {
        let swa = self.swa.as_ref()?;
        swa.layers
            .get(layer)
            .copied()
            .unwrap_or(false)
            .then_some(swa.window)
    }

    /// Width of all query heads together (`n_head · head_dim`).
    pub(crate) fn q_dim(&self) -> Option<usize> {
        self.n_head.checked_mul(self.head_dim)
    }

    /// Width of all key (or value) heads together (`n_head_kv · head_dim`).
    pub(crate) fn kv_dim(&self) -> Option<usize> {
        self.n_head_kv.checked_mul(self.head_dim)
    }

    /// `(q_dim, kv_dim)`, or an error naming the head-count key whose product overflows.
    pub(crate) fn attention_dims(&self) -> Result<(usize, usize), LlmError> {
        let overflow = |key: &str| LlmError::BadHyperparameter {
            key: format!("{}.{key}", self.arch.name()),
            why: "head count × head width overflows".into(),
        };
        let q_dim = self
            .q_dim()
            .ok_or_else(|| overflow("attention.head_count"))?;
        let kv_dim = self
            .kv_dim()
            .ok_or_else(|| overflow("attention.head_count_kv"))?;
        Ok((q_dim, kv_dim))
    }
}

/// `1 / rope.scaling.factor` for linear scaling (or none); other scaling schemes are
/// rejected rather than silently ignored.
fn rope_freq_scale(m: &Meta<'_>) -> Result<f32, LlmError> {
    let key = "rope.scaling.type";
    match m.file.get(&m.key(key)) {
        None => {}
        Some(v) => match v.as_str() {
            Some("none") => return Ok(1.0),
            Some("linear") => {}
            Some(other) => {
                return Err(m.bad(
                    key,
                    format!("RoPE scaling `{other}` is not supported (only linear)"),
                ))
            }
            None => return Err(m.bad(key, "expected a string".into())),
        },
    }
    match m.opt_f32("rope.scaling.factor")? {
        // llama.cpp reads a factor of 0 as "no scaling".
        None => Ok(1.0),
        Some(0.0) => Ok(1.0),
        Some(f) if f.is_finite() && f > 0.0 => Ok(1.0 / f),
        Some(f) => Err(m.bad(
            "rope.scaling.factor",
            format!("{f} must be a finite positive number"),
        )),
    }
}

/// Gemma 3's sliding window, attention scale and logit softcap.
fn gemma3_extras(
    m: &Meta<'_>,
    n_layer: usize,
    n_embd: usize,
    n_head: usize,
    head_dim: usize,
) -> Result<(Option<Swa>, f32, Option<f32>), LlmError> {
    // Without a window every layer is global.
    let swa = match m.opt_usize("attention.sliding_window")? {
        None | Some(0) => None,
        Some(window) => {
            let layers = swa_layers(m, n_layer)?;
            let rope_base = m.opt_f32("rope.freq_base_swa")?.unwrap_or(10000.0);
            if !(rope_base.is_finite() && rope_base > 1.0) {
                return Err(m.bad(
                    "rope.freq_base_swa",
                    format!("{rope_base} must be a finite number above 1"),
                ));
            }
            Some(Swa {
                window,
                layers,
                rope_base,
            })
        }
    };
    // Scores are scaled by 1/sqrt(query_pre_attn_scalar): the head width, except in the
    // 62-layer (27B) model, whose scalar is n_embd / n_head.
    let scalar = if n_layer == 62 {
        n_embd / n_head
    } else {
        head_dim
    };
    let softcap = match m.opt_f32("final_logit_softcapping")? {
        None => None,
        Some(0.0) => None,
        Some(c) if c.is_finite() && c > 0.0 => Some(c),
        Some(c) => {
            return Err(m.bad(
                "final_logit_softcapping",
                format!("{c} must be a finite positive number"),
            ))
        }
    };
    Ok((swa, 1.0 / (scalar as f32).sqrt(), softcap))
}

/// Which layers are local: `attention.sliding_window_pattern` as one flag per layer, or as
/// a period `n` (the last layer of every `n` is global; 0 makes all local), default 6.
fn swa_layers(m: &Meta<'_>, n_layer: usize) -> Result<Vec<bool>, LlmError> {
    let key = "attention.sliding_window_pattern";
    if let Some(Value::Array(Array::Bool(flags))) = m.file.get(&m.key(key)) {
        if flags.len() != n_layer {
            return Err(m.bad(key, format!("{} flags for {n_layer} layers", flags.len())));
        }
        return Ok(flags.clone());
    }
    let period = m.opt_usize(key)?.unwrap_or(6);
    Ok((0..n_layer)
        .map(|i| period == 0 || i % period < period - 1)
        .collect())
}

/// Typed access to `{prefix}.{key}` metadata with errors naming the full key.
struct Meta<'a> {
    file: &'a GgufFile,
    prefix: &'static str,
}

impl Meta<'_> {
    fn key(&self, key: &str) -> String {
        format!("{}.{key}", self.prefix)
    }

    fn missing(&self, key: &str) -> LlmError {
        LlmError::MissingHyperparameter { key: self.key(key) }
    }

    fn bad(&self, key: &str, why: String) -> LlmError {
        LlmError::BadHyperparameter {
            key: self.key(key),
            why,
        }
    }

    fn opt_usize(&self, key: &str) -> Result<Option<usize>, LlmError> {
        match self.file.get_usize(&self.key(key)) {
            Ok(v) => Ok(Some(v)),
            Err(GgufError::MissingKey { .. }) => Ok(None),
            Err(e) => Err(self.bad(key, e.to_string())),
        }
    }

    fn positive_or(&self, key: &str, default: usize) -> Result<usize, LlmError> {
        match self.opt_usize(key)? {
            Some(0) => Err(self.bad(key, "must not be zero".into())),
            Some(v) => Ok(v),
            None => Ok(default),
        }
    }

    fn positive(&self, key: &str) -> Result<usize, LlmError> {
        match self.opt_usize(key)? {
            Some(0) => Err(self.bad(key, "must not be zero".into())),
            Some(v) => Ok(v),
            None => Err(self.missing(key)),
        }
    }

    fn opt_f32(&self, key: &str) -> Result<Option<f32>, LlmError> {
        match self.file.get(&self.key(key)) {
            None => Ok(None),
            Some(Value::F32(v)) => Ok(Some(*v)),
            Some(Value::F64(v)) => Ok(Some(*v as f32)),
            Some(other) => Err(self.bad(
                key,
                format!("expected a float, found {}", other.value_type().name()),
            )),
        }
    }
}

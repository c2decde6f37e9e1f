//! Which tensors a recipe may quantize, and the broad roles (categories) its rules key on.
//!
//! The checks are on tensor names, as llama.cpp's are: GGUF files from llama.cpp's
//! converter name tensors `token_embd.weight`, `blk.N.attn_v.weight`, `output.weight`, …

/// The role of a tensor as far as the mix rules care. The order of the checks in
/// [`Category::of`] matters: it is the same as llama.cpp's, so that names matching several
/// patterns land in the same category.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Category {
    TokenEmbd,
    AttnQ,
    AttnK,
    /// `attn_v`, and the fused `attn_qkv` / `attn_kv_b` that contain it: the most
    /// quantization-sensitive attention weights.
    AttnV,
    AttnOutput,
    FfnUp,
    FfnGate,
    FfnDown,
    Output,
    Other,
}

impl Category {
    pub(crate) fn of(name: &str) -> Category {
        if name == "output.weight" {
            Category::Output
        } else if name == "token_embd.weight" || name == "per_layer_token_embd.weight" {
            Category::TokenEmbd
        } else if name.contains("attn_qkv.weight")
            || name.contains("attn_kv_b.weight")
            || name.contains("attn_v.weight")
        {
            Category::AttnV
        } else if name.contains("attn_k.weight") {
            Category::AttnK
        } else if name.contains("attn_q.weight") {
            Category::AttnQ
        } else if name.contains("attn_output.weight") {
            Category::AttnOutput
        } else if name.contains("ffn_up") {
            Category::FfnUp
        } else if name.contains("ffn_gate") {
            Category::FfnGate
        } else if name.contains("ffn_down") {
            Category::FfnDown
        } else {
            Category::Other
        }
    }
}

/// Number of dimensions as ggml counts them: trailing dimensions of size 1 do not count,
/// so a `[576, 1]` tensor is 1-D.
pub(crate) fn ggml_n_dims(dims: &[u64]) -> usize {
    dims.iter().rposition(|&d| d > 1).map_or(1, |i| i + 1)
}

/// Substrings that mark a weight as not to be quantized: small or precision-critical
/// tensors of various architectures (expert routers, RWKV mixing vectors, Mamba convs,
/// T5 relative bias, vision/audio embeddings, Gemma 3n's tiny AltUp/Laurel weights, …).
const NEVER_QUANTIZED: &[&str] = &[
    "ffn_gate_inp.weight",
    "ffn_gate_tid2eid.weight",
    "altup",
    "laurel",
    "per_layer_model_proj",
    "ssm_conv1d",
    "shortconv.conv.weight",
    "indexer.k_proj.weight",
    "indexer.q_proj.weight",
    "time_mix_first.weight",
    "time_mix_w0.weight",
    "time_mix_w1.weight",
    "time_mix_w2.weight",
    "time_mix_v0.weight",
    "time_mix_v1.weight",
    "time_mix_v2.weight",
    "time_mix_a0.weight",
    "time_mix_a1.weight",
    "time_mix_a2.weight",
    "time_mix_g1.weight",
    "time_mix_g2.weight",
    "time_mix_decay_w1.weight",
    "time_mix_decay_w2.weight",
    "time_mix_lerp_fused.weight",
    "attn_rel_b.weight",
    ".position_embd",
    "sam.pos_embd",
    "sam.neck.",
    "sam.net_",
    ".rel_pos",
    ".patch_embd",
    ".patch_merger",
    "a.rvq.codebook",
    "mm.a.code_embd",
];

/// Whether a recipe may change this tensor's type; if not, the tensor is copied as is.
/// Only matrices (2-D, or 3-D stacks of expert matrices) whose name ends in `weight` are
/// candidates; norms, biases, position and token-type embeddings and the names in
/// [`NEVER_QUANTIZED`] are not.
pub(crate) fn allows_quantization(name: &str, dims: &[u64]) -> Result<(), &'static str> {
    if ggml_n_dims(dims) < 2 {
        return Err("1-D tensor");
    }
    if !name.ends_with("weight") {
        return Err("not a weight");
    }
    if name == "position_embd.weight" || name == "token_types.weight" {
        return Err("position/token-type embedding");
    }
    if name.contains("_norm.weight") {
        return Err("norm");
    }
    if NEVER_QUANTIZED.iter().any(|p| name.contains(p)) {
        return Err("small or sensitive tensor, never quantized");
    }
    Ok(())
}

/// The layer number in a `blk.N.…` name, read as C's `sscanf(name, "blk.%d.")` would: the
/// digits (with an optional sign) right after `blk.`.
pub(crate) fn layer_of(name: &str) -> Option<i64> {
    let rest = name.strip_prefix("blk.")?;
    let rest = rest.trim_start_matches(|c: char| c.is_ascii_whitespace());
    let (sign, digits) = match rest.as_bytes().first() {
        Some(b'-') => (-1, &rest[1..]),
        Some(b'+') => (1, &rest[1..]),
        _ => (1, rest),
    };
    let end = digits
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(digits.len());
    if end == 0 {
        return None;
    }
    // A layer number too long for an i64 is no layer llama.cpp could use either.
    digits[..end].parse::<i64>().ok().map(|n| sign * n)
}

/// The order in which llama.cpp visits tensors when quantizing: non-layer tensors first,
/// then by layer number, and by name (bytewise) within each. The layer counters of the mix
/// rules advance in this order, so the plan is computed in it.
pub(crate) fn llama_visit_order(names: &[&str]) -> Vec<usize> {
    let mut order: Vec<usize> = (0..names.len()).collect();
    order.sort_by(|&a, &b| {
        let ka = (layer_of(names[a]).unwrap_or(-1), names[a].as_bytes());
        let kb = (layer_of(names[b]).unwrap_or(-1), names[b].as_bytes());
        ka.cmp(&kb)
    });
    order
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn categories_follow_llama_cpp_check_order() {
        assert_eq!(Category::of("output.weight"), Category::Output);
        assert_eq!(Category::of("token_embd.weight"), Category::TokenEmbd);
        assert_eq!(
            Category::of("per_layer_token_embd.weight"),
            Category::TokenEmbd
        );
        assert_eq!(Category::of("blk.3.attn_v.weight"), Category::AttnV);
        assert_eq!(Category::of("blk.3.attn_qkv.weight"), Category::AttnV);
        assert_eq!(Category::of("blk.3.attn_kv_b.weight"), Category::AttnV);
        assert_eq!(Category::of("blk.3.attn_k.weight"), Category::AttnK);
        assert_eq!(Category::of("blk.3.attn_q.weight"), Category::AttnQ);
        assert_eq!(
            Category::of("blk.3.attn_output.weight"),
            Category::AttnOutput
        );
        assert_eq!(Category::of("blk.3.ffn_up.weight"), Category::FfnUp);
        assert_eq!(
            Category::of("blk.3.ffn_gate_exps.weight"),
            Category::FfnGate
        );
        assert_eq!(
            Category::of("blk.3.ffn_down_exps.weight"),
            Category::FfnDown
        );
        // attn_k_norm is not attn_k; output_norm is not output.
        assert_eq!(Category::of("blk.3.attn_k_norm.weight"), Category::Other);
        assert_eq!(Category::of("output_norm.weight"), Category::Other);
        assert_eq!(Category::of("token_embd_norm.weight"), Category::Other);
    }

    #[test]
    fn n_dims_ignores_trailing_ones() {
        assert_eq!(ggml_n_dims(&[576]), 1);
        assert_eq!(ggml_n_dims(&[576, 1]), 1);
        assert_eq!(ggml_n_dims(&[576, 1, 1, 1]), 1);
        assert_eq!(ggml_n_dims(&[576, 192]), 2);
        assert_eq!(ggml_n_dims(&[576, 192, 8]), 3);
        assert_eq!(ggml_n_dims(&[1, 192]), 2);
        assert_eq!(ggml_n_dims(&[]), 1);
    }

    #[test]
    fn only_matrix_weights_are_quantized() {
        assert!(allows_quantization("blk.0.attn_q.weight", &[576, 576]).is_ok());
        assert!(allows_quantization("token_embd.weight", &[576, 49152]).is_ok());
        assert!(allows_quantization("output.weight", &[576, 49152]).is_ok());
        assert!(allows_quantization("blk.0.ffn_down_exps.weight", &[1536, 576, 8]).is_ok());
        // 1-D, including a matrix-shaped vector.
        assert!(allows_quantization("blk.0.attn_norm.weight", &[576]).is_err());
        assert!(allows_quantization("blk.0.attn_q.weight", &[576, 1]).is_err());
        // Not ending in "weight".
        assert!(allows_quantization("blk.0.attn_q.bias", &[576, 2]).is_err());
        // Norms, even 2-D.
        assert!(allows_quantization("blk.0.attn_q_norm.weight", &[64, 64]).is_err());
        // Position and token-type embeddings.
        assert!(allows_quantization("position_embd.weight", &[768, 1024]).is_err());
        assert!(allows_quantization("token_types.weight", &[768, 2]).is_err());
        // Expert router, SSM conv, T5 bias, vision patch embedding.
        assert!(allows_quantization("blk.1.ffn_gate_inp.weight", &[4096, 8]).is_err());
        assert!(allows_quantization("blk.1.ssm_conv1d.weight", &[4, 1536]).is_err());
        assert!(allows_quantization("enc.blk.0.attn_rel_b.weight", &[12, 32]).is_err());
        assert!(allows_quantization("v.patch_embd.weight", &[14, 14, 3, 1024]).is_err());
    }

    #[test]
    fn layer_numbers_parse_like_sscanf() {
        assert_eq!(layer_of("blk.0.attn_q.weight"), Some(0));
        assert_eq!(layer_of("blk.17.ffn_down.weight"), Some(17));
        assert_eq!(layer_of("blk.5x"), Some(5));
        assert_eq!(layer_of("token_embd.weight"), None);
        assert_eq!(layer_of("blk..weight"), None);
        assert_eq!(layer_of("v.blk.3.attn_q.weight"), None);
    }

    #[test]
    fn visit_order_sorts_by_layer_then_name() {
        let names = [
            "token_embd.weight",
            "blk.10.attn_v.weight",
            "blk.2.ffn_down.weight",
            "blk.2.attn_v.weight",
            "output_norm.weight",
        ];
        let order: Vec<&str> = llama_visit_order(&names)
            .into_iter()
            .map(|i| names[i])
            .collect();
        assert_eq!(
            order,
            [
                "output_norm.weight",
                "token_embd.weight",
                "blk.2.attn_v.weight",
                "blk.2.ffn_down.weight",
                "blk.10.attn_v.weight",
            ]
        );
    }
}

//! The human-readable form of `info`.

use super::summary::{Hparam, Summary};
use crate::fmt;
use edge_formats::GgufFile;
use std::fmt::Write;

const MISSING: &str = "-";

fn or_dash(value: Option<&str>) -> String {
    value.unwrap_or(MISSING).to_string()
}

fn hparam(value: &Option<Hparam>) -> String {
    match value {
        None => MISSING.to_string(),
        Some(Hparam::One(n)) => n.to_string(),
        Some(Hparam::PerLayer(v)) => {
            // Non-empty and not all equal by construction.
            let min = v.iter().min().copied().unwrap_or_default();
            let max = v.iter().max().copied().unwrap_or_default();
            format!("{min}..{max} (per layer)")
        }
    }
}

/// Renders the summary, and with `tensors` the tensor list, as aligned text.
pub fn render(s: &Summary, file: &GgufFile, tensors: bool) -> String {
    let file_type = match (&s.file_type_name, s.file_type) {
        (Some(name), Some(id)) => format!("{name} ({id})"),
        _ => MISSING.to_string(),
    };
    let bpw = match (s.bits_per_weight(), s.file_bits_per_weight()) {
        (Some(t), Some(f)) => format!("{t:.2} (tensor data), {f:.2} (whole file)"),
        _ => MISSING.to_string(),
    };
    let rows: Vec<(&str, String)> = vec![
        ("file", s.file_name.clone()),
        ("GGUF version", s.gguf_version.to_string()),
        ("architecture", or_dash(s.architecture.as_deref())),
        ("name", or_dash(s.name.as_deref())),
        ("file type", file_type),
        (
            "parameters",
            format!("{} ({})", fmt::count(s.parameters), s.parameters),
        ),
        ("context length", hparam(&s.context_length)),
        ("embedding size", hparam(&s.embedding_length)),
        ("layers", hparam(&s.block_count)),
        ("heads", hparam(&s.head_count)),
        ("KV heads", hparam(&s.head_count_kv)),
        ("feed-forward size", hparam(&s.feed_forward_length)),
        ("tokenizer", or_dash(s.tokenizer_model.as_deref())),
        ("pre-tokenizer", or_dash(s.tokenizer_pre.as_deref())),
        (
            "vocab size",
            s.vocab_size.map_or(MISSING.to_string(), |n| n.to_string()),
        ),
        (
            "chat template",
            if s.chat_template { "yes" } else { "no" }.to_string(),
        ),
        (
            "file size",
            format!("{} ({} bytes)", fmt::bytes(s.file_size), s.file_size),
        ),
        ("bits per weight", bpw),
        ("tensors", s.tensor_count.to_string()),
    ];
    let mut out = String::new();
    for (label, value) in rows {
        let _ = writeln!(out, "{:<18} {value}", format!("{label}:"));
    }
    for (ty, stats) in &s.types {
        let noun = if stats.count == 1 {
            "tensor"
        } else {
            "tensors"
        };
        let _ = writeln!(
            out,
            "  {:<8} {:>6} {noun:<7} {:>12}",
            ty.name(),
            stats.count,
            fmt::bytes(stats.bytes)
        );
    }
    if tensors {
        let width = file
            .tensors()
            .iter()
            .map(|t| t.name.len())
            .max()
            .unwrap_or(4)
            .max(4);
        let _ = writeln!(
            out,
            "\n{:<width$}  {:<8} {:<22} {:>12}",
            "name", "type", "shape", "size"
        );
        for t in file.tensors() {
            let _ = writeln!(
                out,
                "{:<width$}  {:<8} {:<22} {:>12}",
                t.name,
                t.ggml_type.name(),
                fmt::shape(&t.dims),
                fmt::bytes(t.n_bytes())
            );
        }
    }
    out
}

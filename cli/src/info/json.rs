//! The `--json` form of `info`: one object with the summary, all metadata and all tensors.

use super::summary::{Hparam, Summary};
use edge_formats::{Array, GgufFile, Value};
use serde_json::{json, Map, Value as Json};

/// Arrays longer than this are summarised by element type and length (a vocabulary of
/// 262k strings is not something to print).
const MAX_INLINE_ARRAY: usize = 16;

/// An f32 through its shortest decimal form, so 1e-5 prints as `1e-5` rather than as
/// the f64 nearest to the f32 (`9.999999747378752e-6`). Non-finite values become strings,
/// which JSON numbers cannot hold.
fn float(x: f64, shortest: String) -> Json {
    if x.is_finite() {
        shortest.parse::<f64>().map_or(Json::Null, |v| json!(v))
    } else {
        Json::String(shortest)
    }
}

fn array(a: &Array) -> Json {
    if a.len() > MAX_INLINE_ARRAY {
        return json!({
            "type": "array",
            "element_type": a.element_type().name(),
            "len": a.len(),
        });
    }
    match a {
        Array::U8(v) => json!(v),
        Array::I8(v) => json!(v),
        Array::U16(v) => json!(v),
        Array::I16(v) => json!(v),
        Array::U32(v) => json!(v),
        Array::I32(v) => json!(v),
        Array::U64(v) => json!(v),
        Array::I64(v) => json!(v),
        Array::F32(v) => Json::Array(v.iter().map(|&x| float(x.into(), x.to_string())).collect()),
        Array::F64(v) => Json::Array(v.iter().map(|&x| float(x, x.to_string())).collect()),
        Array::Bool(v) => json!(v),
        Array::String(v) => json!(v),
        Array::Array(v) => Json::Array(v.iter().map(array).collect()),
    }
}

/// A metadata value as JSON.
pub fn value(v: &Value) -> Json {
    match v {
        Value::U8(x) => json!(x),
        Value::I8(x) => json!(x),
        Value::U16(x) => json!(x),
        Value::I16(x) => json!(x),
        Value::U32(x) => json!(x),
        Value::I32(x) => json!(x),
        Value::U64(x) => json!(x),
        Value::I64(x) => json!(x),
        Value::F32(x) => float((*x).into(), x.to_string()),
        Value::F64(x) => float(*x, x.to_string()),
        Value::Bool(x) => json!(x),
        Value::String(s) => json!(s),
        Value::Array(a) => array(a),
    }
}

fn hparam(h: &Option<Hparam>) -> Json {
    match h {
        None => Json::Null,
        Some(Hparam::One(n)) => int(*n),
        Some(Hparam::PerLayer(v)) => Json::Array(v.iter().map(|&n| int(n)).collect()),
    }
}

/// An integer read from the file (i128 covers every GGUF integer type) as a JSON number.
fn int(n: i128) -> Json {
    i64::try_from(n)
        .map(Json::from)
        .or_else(|_| u64::try_from(n).map(Json::from))
        .unwrap_or(Json::Null)
}

/// Renders the whole report, one JSON object and a newline.
pub fn render(s: &Summary, file: &GgufFile) -> String {
    let metadata: Map<String, Json> = file
        .metadata()
        .iter()
        .map(|(k, v)| (k.clone(), value(v)))
        .collect();
    let tensors: Vec<Json> = file
        .tensors()
        .iter()
        .map(|t| {
            json!({
                "name": t.name,
                "type": t.ggml_type.name(),
                "shape": t.dims,
                "offset": t.offset,
                "n_elements": t.n_elements(),
                "n_bytes": t.n_bytes(),
            })
        })
        .collect();
    let types: Map<String, Json> = s
        .types
        .iter()
        .map(|(ty, st)| {
            (
                ty.name().to_string(),
                json!({"count": st.count, "bytes": st.bytes}),
            )
        })
        .collect();
    let report = json!({
        "file": s.path,
        "gguf_version": s.gguf_version,
        "architecture": s.architecture,
        "name": s.name,
        "file_type": s.file_type.map(int),
        "file_type_name": s.file_type_name,
        "quantization_version": s.quantization_version.map(int),
        "parameters": s.parameters,
        "context_length": hparam(&s.context_length),
        "embedding_length": hparam(&s.embedding_length),
        "block_count": hparam(&s.block_count),
        "head_count": hparam(&s.head_count),
        "head_count_kv": hparam(&s.head_count_kv),
        "feed_forward_length": hparam(&s.feed_forward_length),
        "tokenizer_model": s.tokenizer_model,
        "tokenizer_pre": s.tokenizer_pre,
        "vocab_size": s.vocab_size,
        "chat_template": s.chat_template,
        "tensor_count": s.tensor_count,
        "tensor_types": types,
        "file_size": s.file_size,
        "tensor_bytes": s.tensor_bytes,
        "bits_per_weight": s.bits_per_weight(),
        "file_bits_per_weight": s.file_bits_per_weight(),
        "alignment": s.alignment,
        "data_offset": s.data_offset,
        "metadata": metadata,
        "tensors": tensors,
    });
    format!("{report}\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn floats_print_shortest_and_non_finite_as_strings() {
        assert_eq!(value(&Value::F32(1e-5)), json!(1e-5));
        assert_eq!(value(&Value::F32(f32::NAN)), json!("NaN"));
        assert_eq!(value(&Value::F64(f64::INFINITY)), json!("inf"));
    }

    #[test]
    fn long_arrays_are_summarised() {
        let long = Value::Array(Array::String(vec!["a".into(); 17]));
        assert_eq!(
            value(&long),
            json!({"type": "array", "element_type": "string", "len": 17})
        );
        let short = Value::Array(Array::I32(vec![1, 2]));
        assert_eq!(value(&short), json!([1, 2]));
        let nested = Value::Array(Array::Array(vec![Array::U8(vec![1]), Array::Bool(vec![])]));
        assert_eq!(value(&nested), json!([[1], []]));
    }
}

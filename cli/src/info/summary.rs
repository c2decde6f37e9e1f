//! The facts `info` reports, gathered once from the file for both output forms.

use edge_formats::{Array, GgmlType, GgufFile, Value};
use edge_quant::recipe::file_type_name;
use std::collections::BTreeMap;
use std::path::Path;

/// A hyper-parameter that is one number, or one per layer (some models vary head counts
/// or feed-forward sizes by layer).
#[derive(Debug, Clone, PartialEq)]
pub enum Hparam {
    One(i128),
    PerLayer(Vec<i128>),
}

impl Hparam {
    fn of(value: &Value) -> Option<Hparam> {
        if let Some(n) = value.as_integer() {
            return Some(Hparam::One(n));
        }
        let per_layer: Vec<i128> = match value.as_array()? {
            Array::U8(v) => v.iter().map(|&x| x.into()).collect(),
            Array::I8(v) => v.iter().map(|&x| x.into()).collect(),
            Array::U16(v) => v.iter().map(|&x| x.into()).collect(),
            Array::I16(v) => v.iter().map(|&x| x.into()).collect(),
            Array::U32(v) => v.iter().map(|&x| x.into()).collect(),
            Array::I32(v) => v.iter().map(|&x| x.into()).collect(),
            Array::U64(v) => v.iter().map(|&x| x.into()).collect(),
            Array::I64(v) => v.iter().map(|&x| x.into()).collect(),
            _ => return None,
        };
        match per_layer.as_slice() {
            [] => None,
            [first, rest @ ..] if rest.iter().all(|x| x == first) => Some(Hparam::One(*first)),
            _ => Some(Hparam::PerLayer(per_layer)),
        }
    }
}

/// Count and bytes of the tensors of one type.
#[derive(Debug, Clone, Copy, Default)]
pub struct TypeStats {
    pub count: usize,
    pub bytes: u64,
}

/// Everything the summary shows. `None` means the key is absent (shown as `-`).
#[derive(Debug)]
pub struct Summary {
    pub path: String,
    pub file_name: String,
    pub gguf_version: u32,
    pub architecture: Option<String>,
    pub name: Option<String>,
    pub file_type: Option<i128>,
    pub file_type_name: Option<String>,
    pub quantization_version: Option<i128>,
    pub parameters: u64,
    pub context_length: Option<Hparam>,
    pub embedding_length: Option<Hparam>,
    pub block_count: Option<Hparam>,
    pub head_count: Option<Hparam>,
    pub head_count_kv: Option<Hparam>,
    pub feed_forward_length: Option<Hparam>,
    pub tokenizer_model: Option<String>,
    pub tokenizer_pre: Option<String>,
    pub vocab_size: Option<usize>,
    pub chat_template: bool,
    pub tensor_count: usize,
    pub types: BTreeMap<GgmlType, TypeStats>,
    pub file_size: u64,
    pub tensor_bytes: u64,
    pub alignment: u64,
    pub data_offset: u64,
}

impl Summary {
    pub fn of(file: &GgufFile, path: &Path) -> Summary {
        let string = |key: &str| file.get(key).and_then(Value::as_str).map(str::to_string);
        let integer = |key: &str| file.get(key).and_then(Value::as_integer);
        let architecture = string("general.architecture");
        // Hyper-parameters are keyed by architecture: `llama.block_count`, …
        let hparam = |suffix: &str| {
            let arch = architecture.as_deref()?;
            file.get(&format!("{arch}.{suffix}")).and_then(Hparam::of)
        };
        let file_type = integer("general.file_type");
        let file_type_name = file_type.map(|id| {
            u32::try_from(id)
                .ok()
                .and_then(file_type_name)
                .map_or_else(|| format!("unknown ({id})"), str::to_string)
        });
        let mut types: BTreeMap<GgmlType, TypeStats> = BTreeMap::new();
        for t in file.tensors() {
            let s = types.entry(t.ggml_type).or_default();
            s.count += 1;
            s.bytes += t.n_bytes();
        }
        Summary {
            path: path.display().to_string(),
            file_name: path.file_name().map_or_else(
                || path.display().to_string(),
                |n| n.to_string_lossy().into_owned(),
            ),
            gguf_version: file.version(),
            name: string("general.name"),
            file_type,
            file_type_name,
            quantization_version: integer("general.quantization_version"),
            parameters: file.tensors().iter().map(|t| t.n_elements()).sum(),
            context_length: hparam("context_length"),
            embedding_length: hparam("embedding_length"),
            block_count: hparam("block_count"),
            head_count: hparam("attention.head_count"),
            head_count_kv: hparam("attention.head_count_kv"),
            feed_forward_length: hparam("feed_forward_length"),
            tokenizer_model: string("tokenizer.ggml.model"),
            tokenizer_pre: string("tokenizer.ggml.pre"),
            vocab_size: file
                .get("tokenizer.ggml.tokens")
                .and_then(Value::as_array)
                .map(Array::len),
            chat_template: file.get("tokenizer.chat_template").is_some(),
            tensor_count: file.tensors().len(),
            tensor_bytes: types.values().map(|s| s.bytes).sum(),
            types,
            file_size: file.file_size(),
            alignment: file.alignment(),
            data_offset: file.data_offset(),
            architecture,
        }
    }

    /// Tensor bits per weight: tensor bytes × 8 / parameters.
    pub fn bits_per_weight(&self) -> Option<f64> {
        (self.parameters > 0).then(|| self.tensor_bytes as f64 * 8.0 / self.parameters as f64)
    }

    /// Whole-file bits per weight (metadata and vocabulary included).
    pub fn file_bits_per_weight(&self) -> Option<f64> {
        (self.parameters > 0).then(|| self.file_size as f64 * 8.0 / self.parameters as f64)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hparams_collapse_uniform_arrays() {
        assert_eq!(Hparam::of(&Value::U32(9)), Some(Hparam::One(9)));
        assert_eq!(
            Hparam::of(&Value::Array(Array::I32(vec![4, 4, 4]))),
            Some(Hparam::One(4))
        );
        assert_eq!(
            Hparam::of(&Value::Array(Array::U32(vec![4, 8]))),
            Some(Hparam::PerLayer(vec![4, 8]))
        );
        assert_eq!(Hparam::of(&Value::Array(Array::U32(vec![]))), None);
        assert_eq!(Hparam::of(&Value::String("9".into())), None);
    }
}

//! The few model hyper-parameters the mix rules depend on, read from GGUF metadata.

use super::category::layer_of;
use edge_formats::{GgufFile, Value};

/// Hyper-parameters that change llama.cpp's per-tensor type choice.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ModelFacts {
    /// `general.architecture` (`llama`, `gemma3`, `qwen2`, …); empty if absent.
    pub arch: String,
    /// `<arch>.block_count`; if absent, one more than the highest `blk.N` in tensor names.
    pub n_layer: u32,
    /// `<arch>.attention.head_count` (of the first layer, where it is per layer).
    pub n_head: u32,
    /// `<arch>.attention.head_count_kv`; defaults to `n_head`.
    pub n_head_kv: u32,
    /// `<arch>.expert_count`; 0 for dense models.
    pub n_expert: u32,
}

/// A metadata integer as u32, whatever its stored integer width; for a per-layer array,
/// its first element. `None` for anything else or a value out of range.
fn first_u32(value: &Value) -> Option<u32> {
    use edge_formats::Array;
    let wide: i128 = match value {
        Value::U8(v) => (*v).into(),
        Value::I8(v) => (*v).into(),
        Value::U16(v) => (*v).into(),
        Value::I16(v) => (*v).into(),
        Value::U32(v) => (*v).into(),
        Value::I32(v) => (*v).into(),
        Value::U64(v) => (*v).into(),
        Value::I64(v) => (*v).into(),
        Value::Array(Array::U32(v)) => (*v.first()?).into(),
        Value::Array(Array::I32(v)) => (*v.first()?).into(),
        Value::Array(Array::U64(v)) => (*v.first()?).into(),
        Value::Array(Array::I64(v)) => (*v.first()?).into(),
        Value::Array(Array::U16(v)) => (*v.first()?).into(),
        Value::Array(Array::I16(v)) => (*v.first()?).into(),
        Value::Array(Array::U8(v)) => (*v.first()?).into(),
        Value::Array(Array::I8(v)) => (*v.first()?).into(),
        _ => return None,
    };
    u32::try_from(wide).ok()
}

impl ModelFacts {
    /// Reads the facts from a GGUF file's metadata. Missing or ill-typed keys take their
    /// defaults rather than failing: a recipe applies to any file of matrices.
    pub fn from_gguf(file: &GgufFile) -> ModelFacts {
        let arch = match file.get("general.architecture") {
            Some(Value::String(s)) => s.clone(),
            _ => String::new(),
        };
        let key = |suffix: &str| file.get(&format!("{arch}.{suffix}")).and_then(first_u32);
        let n_layer = key("block_count").unwrap_or_else(|| {
            let names: Vec<&str> = file.tensors().iter().map(|t| t.name.as_str()).collect();
            layers_from_names(&names)
        });
        let n_head = key("attention.head_count").unwrap_or(0);
        ModelFacts {
            n_layer,
            n_head,
            n_head_kv: key("attention.head_count_kv").unwrap_or(n_head),
            n_expert: key("expert_count").unwrap_or(0),
            arch,
        }
    }

    /// Query heads per key/value head (0 when unknown).
    pub fn n_gqa(&self) -> u32 {
        self.n_head.checked_div(self.n_head_kv).unwrap_or(0)
    }

    /// Whether llama.cpp classifies the model as a 70B, which gets a bigger `attn_v`.
    pub fn is_70b(&self) -> bool {
        match self.arch.as_str() {
            "llama" => self.n_expert != 8 && self.n_layer == 80 && self.n_head != self.n_head_kv,
            "qwen2" | "deci" | "olmo" => self.n_layer == 80,
            "jais2" => self.n_layer == 68,
            _ => false,
        }
    }
}

/// One more than the highest `blk.N` layer number among `names` (0 if none).
pub(crate) fn layers_from_names(names: &[&str]) -> u32 {
    names
        .iter()
        .filter_map(|n| layer_of(n))
        .filter_map(|l| u32::try_from(l).ok())
        .max()
        .map_or(0, |l| l.saturating_add(1))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gqa_and_70b() {
        let mut f = ModelFacts {
            arch: "llama".into(),
            n_layer: 80,
            n_head: 64,
            n_head_kv: 8,
            n_expert: 0,
        };
        assert_eq!(f.n_gqa(), 8);
        assert!(f.is_70b());
        f.n_head_kv = 64; // LLaMA 1 65B: no GQA
        assert!(!f.is_70b());
        f.n_head_kv = 0;
        assert_eq!(f.n_gqa(), 0);
        let g = ModelFacts {
            arch: "gemma3".into(),
            n_layer: 80,
            ..f
        };
        assert!(!g.is_70b());
    }

    #[test]
    fn layer_count_from_names() {
        assert_eq!(
            layers_from_names(&["blk.0.a", "blk.11.b", "output.weight"]),
            12
        );
        assert_eq!(layers_from_names(&["token_embd.weight"]), 0);
    }

    #[test]
    fn integers_of_any_width() {
        use edge_formats::Array;
        assert_eq!(first_u32(&Value::U32(9)), Some(9));
        assert_eq!(first_u32(&Value::I32(3)), Some(3));
        assert_eq!(first_u32(&Value::I32(-3)), None);
        assert_eq!(first_u32(&Value::U64(u64::MAX)), None);
        assert_eq!(first_u32(&Value::Array(Array::I32(vec![4, 8]))), Some(4));
        assert_eq!(first_u32(&Value::Array(Array::I32(vec![]))), None);
        assert_eq!(first_u32(&Value::String("4".into())), None);
    }
}

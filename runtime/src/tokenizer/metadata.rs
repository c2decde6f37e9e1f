//! Typed access to the `tokenizer.*` metadata keys, with errors that name the key.

use edge_formats::{Array, Value};

use super::error::TokenizerError;

/// The metadata keys the tokenizers read (as written by llama.cpp's converters).
pub(crate) mod keys {
    pub const MODEL: &str = "tokenizer.ggml.model";
    pub const PRE: &str = "tokenizer.ggml.pre";
    pub const TOKENS: &str = "tokenizer.ggml.tokens";
    pub const SCORES: &str = "tokenizer.ggml.scores";
    pub const TOKEN_TYPE: &str = "tokenizer.ggml.token_type";
    pub const MERGES: &str = "tokenizer.ggml.merges";
    pub const BOS_ID: &str = "tokenizer.ggml.bos_token_id";
    pub const EOS_ID: &str = "tokenizer.ggml.eos_token_id";
    pub const EOT_ID: &str = "tokenizer.ggml.eot_token_id";
    pub const EOM_ID: &str = "tokenizer.ggml.eom_token_id";
    pub const UNK_ID: &str = "tokenizer.ggml.unknown_token_id";
    /// Spelled as llama.cpp spells it.
    pub const SEP_ID: &str = "tokenizer.ggml.seperator_token_id";
    pub const PAD_ID: &str = "tokenizer.ggml.padding_token_id";
    pub const MASK_ID: &str = "tokenizer.ggml.mask_token_id";
    pub const FIM_PRE_ID: &str = "tokenizer.ggml.fim_pre_token_id";
    pub const FIM_SUF_ID: &str = "tokenizer.ggml.fim_suf_token_id";
    pub const FIM_MID_ID: &str = "tokenizer.ggml.fim_mid_token_id";
    pub const FIM_PAD_ID: &str = "tokenizer.ggml.fim_pad_token_id";
    pub const FIM_REP_ID: &str = "tokenizer.ggml.fim_rep_token_id";
    pub const FIM_SEP_ID: &str = "tokenizer.ggml.fim_sep_token_id";
    /// Older names of the FIM keys, still found in files.
    pub const PREFIX_ID: &str = "tokenizer.ggml.prefix_token_id";
    pub const SUFFIX_ID: &str = "tokenizer.ggml.suffix_token_id";
    pub const MIDDLE_ID: &str = "tokenizer.ggml.middle_token_id";
    pub const ADD_BOS: &str = "tokenizer.ggml.add_bos_token";
    pub const ADD_EOS: &str = "tokenizer.ggml.add_eos_token";
    pub const ADD_SPACE_PREFIX: &str = "tokenizer.ggml.add_space_prefix";
}

/// A metadata lookup: key → value.
pub(crate) struct Metadata<'f, 'a> {
    get: &'f dyn Fn(&str) -> Option<&'a Value>,
}

impl<'f, 'a> Metadata<'f, 'a> {
    pub(crate) fn new(get: &'f dyn Fn(&str) -> Option<&'a Value>) -> Self {
        Metadata { get }
    }

    fn value(&self, key: &str) -> Option<&'a Value> {
        (self.get)(key)
    }

    /// The string at `key`, `None` when absent.
    pub(crate) fn str(&self, key: &'static str) -> Result<Option<&'a str>, TokenizerError> {
        match self.value(key) {
            None => Ok(None),
            Some(Value::String(s)) => Ok(Some(s)),
            Some(other) => Err(wrong_type(key, "a string", other)),
        }
    }

    /// The bool at `key`, `None` when absent.
    pub(crate) fn bool(&self, key: &'static str) -> Result<Option<bool>, TokenizerError> {
        match self.value(key) {
            None => Ok(None),
            Some(Value::Bool(b)) => Ok(Some(*b)),
            Some(other) => Err(wrong_type(key, "a bool", other)),
        }
    }

    /// The token id at `key` (any integer type), checked against the vocabulary size.
    pub(crate) fn token_id(
        &self,
        key: &'static str,
        n_tokens: usize,
    ) -> Result<Option<u32>, TokenizerError> {
        let Some(value) = self.value(key) else {
            return Ok(None);
        };
        let id = value
            .as_integer()
            .ok_or_else(|| wrong_type(key, "an integer", value))?;
        match usize::try_from(id) {
            Ok(i) if i < n_tokens => Ok(u32::try_from(i).ok()),
            _ => Err(TokenizerError::TokenIdOutOfRange { key, id, n_tokens }),
        }
    }

    /// The array of strings at `key`, `None` when absent.
    pub(crate) fn strings(
        &self,
        key: &'static str,
    ) -> Result<Option<&'a [String]>, TokenizerError> {
        match self.value(key) {
            None => Ok(None),
            Some(Value::Array(Array::String(v))) => Ok(Some(v)),
            Some(other) => Err(wrong_type(key, "an array of strings", other)),
        }
    }

    /// The per-token scores: f32, or i32 as some converters write them.
    pub(crate) fn scores(&self, key: &'static str) -> Result<Option<Vec<f32>>, TokenizerError> {
        match self.value(key) {
            None => Ok(None),
            Some(Value::Array(Array::F32(v))) => Ok(Some(v.clone())),
            // Integer scores are ranks; f32 holds them exactly up to 2^24, far above any
            // vocabulary, so the cast loses nothing that matters for ordering.
            Some(Value::Array(Array::I32(v))) => Ok(Some(v.iter().map(|&s| s as f32).collect())),
            Some(other) => Err(wrong_type(key, "an array of f32 or i32", other)),
        }
    }

    /// The array of i32 at `key`, `None` when absent.
    pub(crate) fn i32s(&self, key: &'static str) -> Result<Option<&'a [i32]>, TokenizerError> {
        match self.value(key) {
            None => Ok(None),
            Some(Value::Array(Array::I32(v))) => Ok(Some(v)),
            Some(other) => Err(wrong_type(key, "an array of i32", other)),
        }
    }
}

fn wrong_type(key: &'static str, expected: &'static str, found: &Value) -> TokenizerError {
    let found = match found {
        Value::Array(a) => format!("an array of {}", a.element_type()),
        other => format!("a {}", other.value_type()),
    };
    TokenizerError::WrongType {
        key,
        expected,
        found,
    }
}

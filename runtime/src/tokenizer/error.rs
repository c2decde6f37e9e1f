//! The error type of the tokenizers: what is wrong with a model's tokenizer metadata.

use edge_formats::GgufError;

/// Why a tokenizer could not be built. Every variant names the metadata key at fault.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum TokenizerError {
    /// The GGUF file could not be read.
    #[error(transparent)]
    Gguf(#[from] GgufError),

    /// A key the tokenizer needs is absent.
    #[error("tokenizer metadata `{key}` is missing")]
    MissingKey {
        /// The metadata key.
        key: &'static str,
    },

    /// A key holds a value of the wrong type.
    #[error("tokenizer metadata `{key}` is {found}, expected {expected}")]
    WrongType {
        /// The metadata key.
        key: &'static str,
        /// What the tokenizer accepts there, e.g. `an array of strings`.
        expected: &'static str,
        /// What the file holds, e.g. `an array of i32` or `u32`.
        found: String,
    },

    /// A per-token array does not have one entry per token.
    #[error(
        "tokenizer metadata `{key}` has {len} entries, but `tokenizer.ggml.tokens` has {n_tokens}"
    )]
    LengthMismatch {
        /// The metadata key of the per-token array.
        key: &'static str,
        /// Its number of entries.
        len: usize,
        /// The number of tokens.
        n_tokens: usize,
    },

    /// A special-token id is not an id of the vocabulary.
    #[error(
        "tokenizer metadata `{key}` = {id} is not a token id (the vocabulary has {n_tokens} tokens)"
    )]
    TokenIdOutOfRange {
        /// The metadata key, e.g. `tokenizer.ggml.bos_token_id`.
        key: &'static str,
        /// The id found.
        id: i128,
        /// The number of tokens.
        n_tokens: usize,
    },

    /// `tokenizer.ggml.model` names a tokenizer this crate does not implement.
    #[error(
        "tokenizer metadata `tokenizer.ggml.model` = {model:?} is not a supported tokenizer \
         (supported: \"gpt2\" byte-level BPE, \"llama\" SentencePiece)"
    )]
    UnknownModel {
        /// The value found.
        model: String,
    },

    /// `tokenizer.ggml.pre` names a BPE pre-tokenizer this crate does not implement.
    #[error(
        "tokenizer metadata `tokenizer.ggml.pre` = {pre:?} is not a supported pre-tokenizer \
         (supported: {})",
        crate::tokenizer::PreTokenizer::SUPPORTED_NAMES.join(", ")
    )]
    UnknownPreTokenizer {
        /// The value found.
        pre: String,
    },

    /// `tokenizer.ggml.tokens` is empty.
    #[error("tokenizer metadata `tokenizer.ggml.tokens` is empty")]
    EmptyVocab,

    /// The vocabulary is larger than token ids (non-negative `i32`, as in llama.cpp) allow.
    #[error("tokenizer metadata `tokenizer.ggml.tokens` has {n_tokens} tokens, at most {max} are supported")]
    TooManyTokens {
        /// The number of tokens.
        n_tokens: usize,
        /// The largest supported vocabulary.
        max: usize,
    },

    /// Two tokens have the same text, so text → id would be ambiguous.
    #[error("tokenizer metadata `tokenizer.ggml.tokens` holds {text:?} twice: tokens {first} and {second}")]
    DuplicateToken {
        /// The text of both tokens.
        text: String,
        /// The first id.
        first: u32,
        /// The second id.
        second: u32,
    },

    /// A BPE merge rule is not two pieces separated by a space.
    #[error(
        "tokenizer metadata `tokenizer.ggml.merges`[{index}] = {merge:?} is not \"<left> <right>\""
    )]
    BadMerge {
        /// Index of the rule.
        index: usize,
        /// The rule.
        merge: String,
    },

    /// The model asks for a special token to be added, but has none.
    #[error(
        "tokenizer metadata `{key}` asks to add a {what} token, but the model has no {what} token"
    )]
    MissingSpecialToken {
        /// The flag, e.g. `tokenizer.ggml.add_bos_token`.
        key: &'static str,
        /// `BOS` or `EOS`.
        what: &'static str,
    },

    /// The special-token texts could not be compiled into a matcher (pathologically many or
    /// long special tokens).
    #[error("special tokens of `tokenizer.ggml.tokens` cannot be matched: {0}")]
    SpecialTokens(String),
}

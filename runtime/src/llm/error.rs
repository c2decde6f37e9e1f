//! The error type of model loading and evaluation.

use edge_formats::{GgmlType, GgufError};
use edge_kernels::KernelError;

use super::CacheType;
use crate::tokenizer::TokenizerError;

/// Why a model could not be loaded or evaluated. Every variant names the file key, tensor
/// or argument at fault.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum LlmError {
    /// The file could not be opened or is not a valid GGUF file.
    #[error(transparent)]
    Gguf(#[from] GgufError),

    /// `general.architecture` names an architecture this runtime does not implement.
    #[error(
        "model architecture `{arch}` is not supported (supported: {})",
        super::SUPPORTED_ARCHITECTURES.join(", ")
    )]
    UnknownArchitecture {
        /// The architecture named by the file.
        arch: String,
    },

    /// A hyperparameter the architecture needs is absent from the metadata.
    #[error("model metadata `{key}` is missing; the file was not converted for this architecture or is damaged")]
    MissingHyperparameter {
        /// The metadata key.
        key: String,
    },

    /// A hyperparameter has the wrong type or a value that contradicts the others.
    #[error("model metadata `{key}` is invalid: {why}")]
    BadHyperparameter {
        /// The metadata key.
        key: String,
        /// What is wrong with it.
        why: String,
    },

    /// A weight tensor the architecture needs is absent.
    #[error("model tensor `{name}` is missing; the file is incomplete or of another architecture")]
    MissingTensor {
        /// The tensor name.
        name: String,
    },

    /// A weight tensor's shape does not match the hyperparameters.
    #[error("model tensor `{name}` has shape {found:?}, expected {expected:?} (ggml order, row length first)")]
    TensorShape {
        /// The tensor name.
        name: String,
        /// The shape the hyperparameters imply.
        expected: Vec<u64>,
        /// The shape in the file.
        found: Vec<u64>,
    },

    /// A weight tensor is stored in a type the selected device has no kernel for.
    #[error("model tensor `{name}` is of type {ty}, which this build cannot compute with on this device; requantize the model (e.g. to Q4_K_M or Q8_0)")]
    UnsupportedTensorType {
        /// The tensor name.
        name: String,
        /// Its element type.
        ty: GgmlType,
    },

    /// A session's context size is zero or too large to allocate.
    #[error("context size {n_ctx} is invalid: {why}")]
    BadContextSize {
        /// The requested context size.
        n_ctx: usize,
        /// Why it cannot be used.
        why: String,
    },

    /// A KV cache type cannot hold this model's keys or values.
    #[error("a {ty} KV cache cannot be used here: {why}; use an f16 cache (--cache-type-k f16 --cache-type-v f16)")]
    UnsupportedCacheType {
        /// The cache type asked for.
        ty: CacheType,
        /// Why it cannot be used.
        why: String,
    },

    /// The tokens to evaluate do not fit in the session's KV cache.
    #[error("the context of {n_ctx} tokens is full; start a new session, reset this one, or use a larger context")]
    ContextFull {
        /// The session's context size.
        n_ctx: usize,
    },

    /// A token id is not in the model's vocabulary.
    #[error("token id {id} is out of range for a vocabulary of {n_vocab}")]
    TokenOutOfRange {
        /// The token id.
        id: u32,
        /// The vocabulary size.
        n_vocab: usize,
    },

    /// `eval` was called with no tokens.
    #[error("no tokens to evaluate")]
    EmptyInput,

    /// The model's tokenizer metadata is invalid.
    #[error(transparent)]
    Tokenizer(#[from] TokenizerError),

    /// The caller's progress callback asked to stop loading.
    #[error("loading was cancelled by the progress callback")]
    Cancelled,

    /// A kernel rejected its arguments or is unavailable (e.g. `EDGE_CPU_TIER` names a tier
    /// this CPU lacks).
    #[error(transparent)]
    Kernel(#[from] KernelError),
}

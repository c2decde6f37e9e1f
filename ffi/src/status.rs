//! [`edge_status`], the result of every fallible call, and how the errors of the Rust
//! crates map onto it.

use edge_formats::GgufError;
use edge_kernels::KernelError;
use edge_runtime::chat::ChatError;
use edge_runtime::llm::LlmError;
use edge_runtime::sampling::SamplingError;
use edge_runtime::tokenizer::TokenizerError;

use crate::boundary::Failure;

/// The result of a call. Every value other than `EDGE_OK` comes with a message from
/// `edge_last_error()`.
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum edge_status {
    /// Success.
    EDGE_OK = 0,
    /// A NULL or out-of-range argument, text that is not UTF-8, or a context already in
    /// use.
    EDGE_ERR_INVALID_ARGUMENT = 1,
    /// A missing or unreadable file.
    EDGE_ERR_IO = 2,
    /// A file that is not a valid model (not GGUF, truncated, missing tensors or
    /// metadata, inconsistent shapes).
    EDGE_ERR_FORMAT = 3,
    /// A valid file this build cannot run (architecture, tensor type, tokenizer, CPU
    /// features).
    EDGE_ERR_UNSUPPORTED = 4,
    /// Memory could not be allocated.
    EDGE_ERR_OUT_OF_MEMORY = 5,
    /// The tokens do not fit in what is left of the context.
    EDGE_ERR_CONTEXT_FULL = 6,
    /// A progress callback returned false.
    EDGE_ERR_CANCELLED = 7,
    /// A bug in edge (a panic was caught); the message says where.
    EDGE_ERR_INTERNAL = 8,
}

impl From<GgufError> for Failure {
    fn from(e: GgufError) -> Failure {
        let status = match &e {
            GgufError::Io { source, .. } if source.kind() == std::io::ErrorKind::OutOfMemory => {
                edge_status::EDGE_ERR_OUT_OF_MEMORY
            }
            GgufError::Io { .. } => edge_status::EDGE_ERR_IO,
            GgufError::Cancelled => edge_status::EDGE_ERR_CANCELLED,
            GgufError::UnsupportedVersion { .. } => edge_status::EDGE_ERR_UNSUPPORTED,
            _ => edge_status::EDGE_ERR_FORMAT,
        };
        Failure::new(status, e.to_string())
    }
}

impl From<TokenizerError> for Failure {
    fn from(e: TokenizerError) -> Failure {
        let status = match e {
            TokenizerError::Gguf(e) => return e.into(),
            TokenizerError::UnknownModel { .. }
            | TokenizerError::UnknownPreTokenizer { .. }
            | TokenizerError::TooManyTokens { .. } => edge_status::EDGE_ERR_UNSUPPORTED,
            _ => edge_status::EDGE_ERR_FORMAT,
        };
        Failure::new(status, e.to_string())
    }
}

impl From<LlmError> for Failure {
    fn from(e: LlmError) -> Failure {
        use edge_status::*;
        let status = match e {
            LlmError::Gguf(e) => return e.into(),
            LlmError::Tokenizer(e) => return e.into(),
            LlmError::UnknownArchitecture { .. } | LlmError::UnsupportedTensorType { .. } => {
                EDGE_ERR_UNSUPPORTED
            }
            LlmError::MissingHyperparameter { .. }
            | LlmError::BadHyperparameter { .. }
            | LlmError::MissingTensor { .. }
            | LlmError::TensorShape { .. } => EDGE_ERR_FORMAT,
            // The runtime words an allocation failure of the KV cache this way; any other
            // reason is a bad size.
            LlmError::BadContextSize { ref why, .. } if why.starts_with("cannot allocate") => {
                EDGE_ERR_OUT_OF_MEMORY
            }
            // The caller's choices: a context size, a KV cache type the model cannot use
            // (q8_0 with a head width that is not a multiple of 32), a token id.
            LlmError::BadContextSize { .. }
            | LlmError::UnsupportedCacheType { .. }
            | LlmError::TokenOutOfRange { .. }
            | LlmError::EmptyInput => EDGE_ERR_INVALID_ARGUMENT,
            LlmError::ContextFull { .. } => EDGE_ERR_CONTEXT_FULL,
            LlmError::Cancelled => EDGE_ERR_CANCELLED,
            LlmError::Kernel(ref k) => kernel_status(k),
            _ => EDGE_ERR_INTERNAL,
        };
        Failure::new(status, e.to_string())
    }
}

fn kernel_status(e: &KernelError) -> edge_status {
    use KernelError as K;
    match e {
        K::UnknownTier(_) | K::TierUnavailable { .. } | K::Unsupported { .. } => {
            edge_status::EDGE_ERR_UNSUPPORTED
        }
        K::NotBlockMultiple { .. } | K::BadLength { .. } | K::Overflow { .. } => {
            edge_status::EDGE_ERR_FORMAT
        }
        K::ThreadSpawn(_) => edge_status::EDGE_ERR_OUT_OF_MEMORY,
        // Should edge-kernels grow a variant, it is still an error, not a crash.
        #[allow(unreachable_patterns)]
        _ => edge_status::EDGE_ERR_INTERNAL,
    }
}

impl From<SamplingError> for Failure {
    fn from(e: SamplingError) -> Failure {
        let status = match e {
            SamplingError::InvalidParam { .. } => edge_status::EDGE_ERR_INVALID_ARGUMENT,
            _ => edge_status::EDGE_ERR_INTERNAL,
        };
        Failure::new(status, e.to_string())
    }
}

impl From<ChatError> for Failure {
    fn from(e: ChatError) -> Failure {
        let status = match e {
            // The model's template uses Jinja this engine does not have, or is broken.
            ChatError::Syntax { .. } => edge_status::EDGE_ERR_UNSUPPORTED,
            // The template refused the conversation (e.g. roles that do not alternate).
            ChatError::Render { .. } => edge_status::EDGE_ERR_INVALID_ARGUMENT,
            _ => edge_status::EDGE_ERR_INTERNAL,
        };
        Failure::new(status, e.to_string())
    }
}

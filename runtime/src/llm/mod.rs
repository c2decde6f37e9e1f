//! Large language models: loading a GGUF model and running its forward pass.
//!
//! ```no_run
//! use edge_runtime::llm::{LoadParams, Model};
//!
//! let model = Model::load("SmolLM2-135M-Instruct.Q4_1.gguf", &LoadParams::default())?;
//! let tokens = model.tokenizer().encode("The capital of France is", true, true);
//! let mut session = model.session(512)?;
//! let logits = session.eval(&tokens)?;
//! let next = (0..logits.len()).max_by(|&a, &b| logits[a].total_cmp(&logits[b]));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! Supported architectures: [`SUPPORTED_ARCHITECTURES`] (`llama`, e.g. SmolLM2; `qwen2`;
//! `qwen3`, dense; `gemma3`, text-only). Hyperparameters come from the
//! file's metadata only; weights stay quantized in the memory map and are multiplied by the
//! kernels of `edge-kernels`, which quantize activations the way llama.cpp does so that
//! results match it.

mod attention;
mod error;
mod forward;
mod gemma3;
mod hparams;
mod kv_cache;
mod llama;
mod model;
mod scratch;
mod session;
mod weights;

pub use crate::device::Device;
pub use error::LlmError;
pub use kv_cache::{CacheType, UnknownCacheType};
pub use model::{LoadParams, Model};
pub use session::{Session, SessionParams};

/// The values of `general.architecture` this runtime can load.
pub const SUPPORTED_ARCHITECTURES: &[&str] = &["llama", "qwen2", "qwen3", "gemma3"];

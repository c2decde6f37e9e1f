//! edge-runtime: running models on the device.
//!
//! This crate holds the tokenizers ([`tokenizer`]), built from the metadata of a GGUF file,
//! the LLM forward pass ([`llm`]: load a model, evaluate tokens in a session with its
//! KV cache) on a [`device::Device`], the sampling chain ([`sampling`]), chat templates
//! ([`chat`]) and the generation loop that ties them together ([`generate`]).
//!
//! ```no_run
//! use edge_formats::GgufFile;
//! use edge_runtime::tokenizer::Tokenizer;
//!
//! let file = GgufFile::open("model.gguf")?;
//! let tok = Tokenizer::from_gguf(&file)?;
//! let ids = tok.encode("Hello world", true, true);
//! let text = tok.decode(&ids, Default::default());
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
#![deny(unsafe_op_in_unsafe_fn)]
#![warn(missing_docs)]

pub mod chat;
pub mod device;
pub mod generate;
pub mod llm;
pub mod sampling;
pub mod tokenizer;

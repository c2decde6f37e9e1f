//! edge-formats: reading and writing GGUF, the file format of llama.cpp models.
//!
//! Reading validates everything it is told by the file (lengths, counts, offsets, types)
//! before trusting it, and exposes tensor data as zero-copy views into a memory map.
#![deny(unsafe_op_in_unsafe_fn)]
#![warn(missing_docs)]

pub mod ggml_type;

pub use ggml_type::{GgmlType, TypeIdError};

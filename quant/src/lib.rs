//! edge-quant: ggml's block formats, bit-exact with llama.cpp.
//!
//! Each format has a `#[repr(C)]` block struct whose size is pinned at compile time, a
//! dequantizer, and a reference quantizer. Everything here is plain scalar code: it is the
//! reference the SIMD kernels are tested against, and what `edge-run quantize` uses.
#![deny(unsafe_op_in_unsafe_fn)]
#![warn(missing_docs)]

mod convert;
pub mod error;
pub mod float;
pub mod iq4;
pub mod k_quants;
pub mod legacy;
pub mod model;
pub mod recipe;

pub use convert::{can_dequantize, can_quantize, dequantize, quantize};
pub use edge_formats::GgmlType;
pub use error::QuantError;
pub use model::{quantize_model, QuantizeError, QuantizeOptions, QuantizeSummary};
pub use recipe::{FileType, QuantTarget, RecipeError, TensorPlan};

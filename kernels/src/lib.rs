//! edge-kernels: compute over slices.
//!
//! Today this holds the quantized dot products and matrix-vector products that LLM
//! decoding runs on, for the CPU. Every kernel has a plain scalar reference
//! ([`cpu::scalar`]) and SIMD versions for x86-64 (AVX2, AVX-512 + VNNI); the version
//! used is chosen once at run time ([`cpu::Tier`], [`cpu::KernelTable`]), never at
//! compile time, so one binary runs on every CPU of its architecture.
//!
//! Entry points check lengths once and return a [`KernelError`]; the inner loops then
//! assume whole, matching blocks.
#![deny(unsafe_op_in_unsafe_fn)]
#![warn(missing_docs)]

pub mod cpu;
mod error;
pub mod ops;

pub use cpu::{
    activation_type, matmul, matmul_multi, matmul_rowwise, matvec, matvec_multi, select_tier,
    KernelTable, Pool, QuantMatrix, Tier,
};
pub use edge_formats::GgmlType;
pub use error::KernelError;

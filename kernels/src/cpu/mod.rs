//! CPU kernels: scalar references, SIMD versions, and the run-time dispatch between them.

// Before the tier modules, which instantiate its macro.
#[macro_use]
mod attention_tile_body;
#[cfg(target_arch = "aarch64")]
mod aarch64;
mod activation;
mod dispatch;
mod matvec;
mod per_type;
mod pool;
mod product;
mod rows;
pub mod scalar;
mod tile;
#[cfg(target_arch = "x86_64")]
mod x86;

pub use activation::activation_type;
pub use dispatch::{best_tier, parse_tier, select_tier, KernelTable, Tier, TIER_ENV};
pub use matvec::{matmul, matmul_multi, matmul_rowwise, matvec, matvec_multi, QuantMatrix};
pub use pool::Pool;

//! Plain-Rust reference kernels: the semantics every SIMD version must reproduce.
//!
//! Each quantized dot product accumulates each block's products exactly in integers,
//! then does the scale math in f32, one block at a time, in block order:
//!
//! `sum over blocks of (d_w · d_a) · Σ q_w·q_a` (plus the min/offset terms that the
//! `_1` and `_K` formats carry, as documented per kernel).
//!
//! SIMD versions compute the same integer sums exactly; only the order of their f32
//! additions differs, so results agree to within a few ulps of the sum of |terms|.

mod f32;
mod q4_0;
mod q4_1;
mod q4_k;
mod q6_k;
mod q8_0;

pub use self::f32::vec_dot_f32;
pub use q4_0::vec_dot_q4_0_q8_0;
pub use q4_1::vec_dot_q4_1_q8_1;
pub use q4_k::vec_dot_q4_k_q8_k;
pub use q6_k::vec_dot_q6_k_q8_k;
pub use q8_0::{quantize_row_q8_0, vec_dot_q8_0_q8_0};

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
//!
//! F16 and BF16 weights pair with activations rounded to the same half type, as ggml's
//! `vec_dot_type` has it, so that results match llama.cpp's; the products are summed
//! in f32.

mod f16;
mod f32;
mod iq4;
mod q2_k;
mod q3_k;
mod q4_0;
mod q4_1;
mod q4_k;
mod q5_0;
mod q5_1;
mod q5_k;
mod q6_k;
mod q8_0;
mod q8_k;

pub use self::f16::{vec_dot_bf16, vec_dot_f16};
pub use self::f32::vec_dot_f32;
pub use iq4::{vec_dot_iq4_nl_q8_0, vec_dot_iq4_xs_q8_k};
pub use q2_k::vec_dot_q2_k_q8_k;
pub use q3_k::vec_dot_q3_k_q8_k;
pub use q4_0::vec_dot_q4_0_q8_0;
pub use q4_1::vec_dot_q4_1_q8_1;
pub use q4_k::vec_dot_q4_k_q8_k;
pub use q5_0::vec_dot_q5_0_q8_0;
pub use q5_1::vec_dot_q5_1_q8_1;
pub use q5_k::vec_dot_q5_k_q8_k;
pub use q6_k::vec_dot_q6_k_q8_k;
pub use q8_0::{quantize_row_q8_0, vec_dot_q8_0_q8_0};
pub use q8_k::quantize_row_q8_k;

//! AVX-512 (F, BW, VL) + VNNI kernels (Ice Lake, Zen 4 and later).
//!
//! The 32-element block types and Q4_K, Q5_K, Q6_K have row kernels ([`rows`]): many
//! weight rows times one activation row laid out once per call; `vpdpbusd` multiplies
//! unsigned weight bytes by signed activation bytes and sums groups of four straight
//! into i32 lanes (no i16 intermediate, no saturation); the K-quants then pack those
//! lanes to i16 (exactly) for one `vpdpwssd` with their sub-block scales. Their `vec_dot`
//! entries are the same kernels on one row.
//!
//! The other entries of this tier (Q2_K, Q3_K, IQ4, F16/BF16) use the AVX2
//! kernels for now (see [`crate::cpu::KernelTable`]); batches of K-quants and of the
//! 32-element types have their own tiles.

mod attention;
pub(crate) mod attention_cached;
mod attention_tile;
mod f32;
pub(crate) mod rows;
pub(crate) mod tile;

pub use attention::attend;
pub use attention_tile::attend_tile;
pub use f32::vec_dot_f32;
pub use rows::{
    vec_dot_q4_0_q8_0, vec_dot_q4_1_q8_1, vec_dot_q4_k_q8_k, vec_dot_q5_0_q8_0, vec_dot_q5_1_q8_1,
    vec_dot_q5_k_q8_k, vec_dot_q6_k_q8_k, vec_dot_q8_0_q8_0,
};

use core::arch::x86_64::*;

/// `lo` in the low 256 bits, `hi` in the high 256 bits.
#[inline]
#[target_feature(enable = "avx512f")]
pub(crate) fn join_si(lo: __m256i, hi: __m256i) -> __m512i {
    _mm512_inserti64x4::<1>(_mm512_castsi256_si512(lo), hi)
}

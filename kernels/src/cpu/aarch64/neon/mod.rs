//! NEON (Advanced SIMD) kernels, on every aarch64 CPU.
//!
//! The integer dot products multiply with `vmull_s8` (i8·i8 → i16, exact) and add pairs
//! into i32 lanes with `vpadalq_s16`.

pub(crate) mod attention_cached;
mod attention_tile;
mod f32;
mod q8_k;

pub use self::attention_tile::attend_tile;
pub use self::f32::vec_dot_f32;
pub use self::q8_k::quantize_row_q8_k;

use core::arch::aarch64::*;

/// `acc + Σ a·b` over 16 i8 pairs, in four i32 lanes (which lane holds which product is
/// unspecified; callers only use the lanes' total).
#[inline]
#[target_feature(enable = "neon")]
fn dot(acc: int32x4_t, a: int8x16_t, b: int8x16_t) -> int32x4_t {
    let lo = vmull_s8(vget_low_s8(a), vget_low_s8(b));
    let hi = vmull_high_s8(a, b);
    vpadalq_s16(vpadalq_s16(acc, lo), hi)
}

q4_0_kernel!("neon");
q4_1_kernel!("neon");
q5_0_kernel!("neon");
q5_1_kernel!("neon");
q8_0_kernel!("neon");
q4_k_kernel!("neon");
q5_k_kernel!("neon");
q6_k_kernel!("neon");
tile_kernels!("neon");

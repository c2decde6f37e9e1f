//! NEON kernels with the Armv8.2 dot-product extension: `sdot` sums four i8·i8 products
//! straight into each i32 lane.

use core::arch::aarch64::*;

/// `acc + Σ a·b` over 16 i8 pairs with `sdot`: lane `i` gains the products of bytes
/// `4i..4i+4`.
#[inline]
#[target_feature(enable = "neon,dotprod")]
fn dot(acc: int32x4_t, a: int8x16_t, b: int8x16_t) -> int32x4_t {
    let mut acc = acc;
    // SAFETY: `sdot` reads two vector registers and updates a third; it touches no
    // memory, and this function is only compiled for (and called on) CPUs with dotprod.
    unsafe {
        core::arch::asm!(
            "sdot {acc:v}.4s, {a:v}.16b, {b:v}.16b",
            acc = inout(vreg) acc,
            a = in(vreg) a,
            b = in(vreg) b,
            options(pure, nomem, nostack, preserves_flags),
        );
    }
    acc
}

q4_0_kernel!("neon,dotprod");
q4_1_kernel!("neon,dotprod");
q5_0_kernel!("neon,dotprod");
q5_1_kernel!("neon,dotprod");
q8_0_kernel!("neon,dotprod");
q4_k_kernel!("neon,dotprod");
q5_k_kernel!("neon,dotprod");
q6_k_kernel!("neon,dotprod");
tile_kernels!("neon,dotprod");

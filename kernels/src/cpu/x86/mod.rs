//! x86-64 SIMD kernels. Each function here is an `unsafe fn` with `#[target_feature]`:
//! the only obligation of its caller is that the CPU has those features, which
//! [`crate::cpu::KernelTable`] guarantees by building a tier's table only after
//! [`crate::cpu::select_tier`] has checked them. Memory accesses are bounds-safe by
//! construction (whole blocks, unaligned loads of fixed-size arrays).

pub(crate) mod avx2;
pub(crate) mod avx512;

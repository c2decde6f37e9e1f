//! Row kernels: many weight rows of one type times one activation row, as decoding
//! multiplies every matrix by the current token. A tier brings one where laying out the
//! activation once per call pays (AVX-512: see `x86::avx512::rows`); its `vec_dot` for
//! that type is then the same kernel on one row, so both agree bit for bit. Other tiers
//! and types call their `vec_dot` per row.

/// `out[r] = w[r]·act` for the `out.len()` rows of `nb` blocks in `w` and one activation
/// row of `nb` blocks in `act` (quantized to the weight type's activation type).
pub(crate) type RowsFn = unsafe fn(&[u8], usize, &[u8], &mut [f32]);

/// A tier's row kernels, one per weight type that has one (`NONE`: every row takes the
/// tier's `vec_dot`).
pub(crate) type RowKernels = super::per_type::PerType<RowsFn>;

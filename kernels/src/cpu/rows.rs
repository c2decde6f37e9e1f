//! Row kernels: many weight rows of one type times one activation row, as decoding
//! multiplies every matrix by the current token. A tier brings one where laying out the
//! activation once per call pays (AVX-512: see `x86::avx512::rows`); its `vec_dot` for
//! that type is then the same kernel on one row, so both agree bit for bit. Other tiers
//! and types call their `vec_dot` per row.

use edge_formats::GgmlType;

/// `out[r] = w[r]·act` for the `out.len()` rows of `nb` blocks in `w` and one activation
/// row of `nb` blocks in `act` (quantized to the weight type's activation type).
pub(crate) type RowsFn = unsafe fn(&[u8], usize, &[u8], &mut [f32]);

/// A tier's row kernels, one per weight type that has one.
#[derive(Clone, Copy)]
pub(crate) struct RowKernels {
    pub q4_0: Option<RowsFn>,
    pub q4_1: Option<RowsFn>,
    pub q5_0: Option<RowsFn>,
    pub q5_1: Option<RowsFn>,
    pub q8_0: Option<RowsFn>,
    pub q4_k: Option<RowsFn>,
    pub q5_k: Option<RowsFn>,
    pub q6_k: Option<RowsFn>,
}

impl RowKernels {
    /// No row kernels: every row takes the tier's `vec_dot`.
    pub const NONE: RowKernels = RowKernels {
        q4_0: None,
        q4_1: None,
        q5_0: None,
        q5_1: None,
        q8_0: None,
        q4_k: None,
        q5_k: None,
        q6_k: None,
    };

    /// The kernel for weights of type `ty`, if this tier has one.
    pub fn get(&self, ty: GgmlType) -> Option<RowsFn> {
        match ty {
            GgmlType::Q4_0 => self.q4_0,
            GgmlType::Q4_1 => self.q4_1,
            GgmlType::Q5_0 => self.q5_0,
            GgmlType::Q5_1 => self.q5_1,
            GgmlType::Q8_0 => self.q8_0,
            GgmlType::Q4_K => self.q4_k,
            GgmlType::Q5_K => self.q5_k,
            GgmlType::Q6_K => self.q6_k,
            _ => None,
        }
    }
}

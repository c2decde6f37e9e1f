//! A table with one optional entry per weight type that has specialised kernels: the
//! 32-element block types and the K-quants the tile and row kernels cover.

use edge_formats::GgmlType;

/// One optional `T` per weight type that tiers specialise; see [`super::tile::Tiles`] and
/// [`super::rows::RowKernels`].
#[derive(Clone, Copy)]
pub(crate) struct PerType<T> {
    pub q4_0: Option<T>,
    pub q4_1: Option<T>,
    pub q5_0: Option<T>,
    pub q5_1: Option<T>,
    pub q8_0: Option<T>,
    pub q4_k: Option<T>,
    pub q5_k: Option<T>,
    pub q6_k: Option<T>,
}

impl<T: Copy> PerType<T> {
    /// No entries: every type takes the general path.
    pub const NONE: PerType<T> = PerType {
        q4_0: None,
        q4_1: None,
        q5_0: None,
        q5_1: None,
        q8_0: None,
        q4_k: None,
        q5_k: None,
        q6_k: None,
    };

    /// The entry for weights of type `ty`, if there is one.
    pub fn get(&self, ty: GgmlType) -> Option<T> {
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

//! Errors of quantization and dequantization.

use edge_formats::GgmlType;

/// What went wrong converting between f32 and a block format.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum QuantError {
    /// The type has no dequantizer / quantizer in edge.
    #[error("{op} to/from {ty} is not supported")]
    Unsupported {
        /// `"quantize"` or `"dequantize"`.
        op: &'static str,
        /// The type asked for.
        ty: GgmlType,
    },
    /// The element count is not a whole number of blocks.
    #[error("{n} elements is not a multiple of the {ty} block size {block}")]
    NotBlockMultiple {
        /// The type.
        ty: GgmlType,
        /// Elements given.
        n: usize,
        /// Block size of the type.
        block: usize,
    },
    /// The byte buffer does not hold exactly the blocks for the element count.
    #[error("{ty}: {n} elements need {expected} bytes, buffer has {found}")]
    BadLength {
        /// The type.
        ty: GgmlType,
        /// Elements.
        n: usize,
        /// Bytes needed.
        expected: usize,
        /// Bytes given.
        found: usize,
    },
}

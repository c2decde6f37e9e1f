//! The crate's error type.

use crate::cpu::Tier;
use edge_formats::GgmlType;

/// What can go wrong when selecting or calling a kernel.
#[derive(Debug, thiserror::Error, Clone, PartialEq, Eq)]
pub enum KernelError {
    /// `EDGE_CPU_TIER` (or a caller) named a tier that does not exist.
    #[error("unknown CPU tier {0:?} (expected one of: scalar, avx2, avx512, neon, neon-dotprod)")]
    UnknownTier(String),
    /// The tier exists, but this CPU (or this build's architecture) cannot run it.
    #[error("CPU tier {tier} is not available on this machine: {reason}")]
    TierUnavailable {
        /// The tier that was asked for.
        tier: Tier,
        /// Which feature is missing.
        reason: &'static str,
    },
    /// No kernel exists for this weight type and operation.
    #[error("{op} is not implemented for weights of type {ty:?}")]
    Unsupported {
        /// The operation, e.g. `"vec_dot"`.
        op: &'static str,
        /// The weight type.
        ty: GgmlType,
    },
    /// A row length is not a whole number of blocks.
    #[error("{n} elements of {ty:?} is not a whole number of {block}-element blocks")]
    NotBlockMultiple {
        /// The block type.
        ty: GgmlType,
        /// The number of elements.
        n: usize,
        /// Elements per block.
        block: usize,
    },
    /// A buffer has the wrong length.
    #[error("{what}: expected {expected} {unit}, found {found}")]
    BadLength {
        /// Which argument.
        what: &'static str,
        /// The length it should have.
        expected: usize,
        /// The length it has.
        found: usize,
        /// `"bytes"`, `"blocks"` or `"elements"`.
        unit: &'static str,
    },
    /// The operating system refused to start a thread of a [`Pool`](crate::cpu::Pool).
    #[error("could not start a worker thread: {0}")]
    ThreadSpawn(String),
    /// `rows × cols` does not fit in memory sizes.
    #[error("matrix of {rows} x {cols} overflows usize")]
    Overflow {
        /// Rows.
        rows: usize,
        /// Columns.
        cols: usize,
    },
}

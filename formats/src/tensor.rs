//! Tensor descriptions (name, shape, type, offset) and the shape rules that reader and
//! writer share.

use crate::error::GgufError;
use crate::ggml_type::GgmlType;

/// At most this many dimensions per tensor (ggml's `GGML_MAX_DIMS`).
pub const MAX_DIMS: u32 = 4;

/// A tensor as described in a GGUF file's tensor info section.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TensorInfo {
    /// Tensor name, e.g. `blk.0.attn_q.weight`.
    pub name: String,
    /// Dimensions in ggml order: `dims[0]` (ne0) is the row length, the fastest-varying one.
    pub dims: Vec<u64>,
    /// Element type.
    pub ggml_type: GgmlType,
    /// Byte offset of the data, relative to [`GgufFile::data_offset`](crate::GgufFile::data_offset).
    pub offset: u64,
}

impl TensorInfo {
    /// Number of elements. A `TensorInfo` read from a file never overflows (the reader
    /// checks); for a hand-made one whose product overflows this saturates at `u64::MAX`.
    pub fn n_elements(&self) -> u64 {
        n_elements(&self.dims).unwrap_or(u64::MAX)
    }

    /// Size of the data in bytes. Exact for a `TensorInfo` read from a file; for a
    /// hand-made one with an invalid shape this is `u64::MAX`.
    pub fn n_bytes(&self) -> u64 {
        n_elements(&self.dims)
            .and_then(|n| self.ggml_type.bytes_for(n))
            .unwrap_or(u64::MAX)
    }
}

/// A tensor to be written by [`GgufWriter`](crate::GgufWriter): its offset is computed by
/// the writer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TensorSpec {
    /// Tensor name.
    pub name: String,
    /// Dimensions in ggml order (row length first).
    pub dims: Vec<u64>,
    /// Element type.
    pub ggml_type: GgmlType,
}

impl TensorSpec {
    /// A spec from its parts.
    pub fn new(name: impl Into<String>, dims: impl Into<Vec<u64>>, ggml_type: GgmlType) -> Self {
        TensorSpec {
            name: name.into(),
            dims: dims.into(),
            ggml_type,
        }
    }
}

fn n_elements(dims: &[u64]) -> Option<u64> {
    dims.iter().try_fold(1u64, |acc, &d| acc.checked_mul(d))
}

/// Checks the shape rules shared by reader and writer and returns the data size in bytes:
/// at most [`MAX_DIMS`] dimensions, none zero (llama.cpp rejects empty tensors), a row
/// length that is a whole number of blocks, and an element count and byte size that fit in
/// 64 bits.
pub(crate) fn validate_shape(
    name: &str,
    dims: &[u64],
    ggml_type: GgmlType,
) -> Result<u64, GgufError> {
    if dims.len() > MAX_DIMS as usize {
        return Err(GgufError::TooManyDims {
            tensor: name.to_string(),
            n_dims: u32::try_from(dims.len()).unwrap_or(u32::MAX),
            max: MAX_DIMS,
        });
    }
    if dims.contains(&0) {
        return Err(GgufError::ZeroDim {
            tensor: name.to_string(),
            dims: dims.to_vec(),
        });
    }
    let row_len = dims.first().copied().unwrap_or(1);
    let block_size = ggml_type.block_size() as u64;
    if row_len % block_size != 0 {
        return Err(GgufError::RowNotBlockMultiple {
            tensor: name.to_string(),
            ggml_type,
            row_len,
            block_size,
        });
    }
    n_elements(dims)
        .and_then(|n| ggml_type.bytes_for(n))
        .ok_or_else(|| GgufError::ShapeOverflow {
            tensor: name.to_string(),
            dims: dims.to_vec(),
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shape_rules() {
        assert_eq!(validate_shape("t", &[64, 2], GgmlType::Q4_0).ok(), Some(72));
        assert_eq!(validate_shape("scalar", &[], GgmlType::F32).ok(), Some(4));
        assert!(matches!(
            validate_shape("t", &[1, 1, 1, 1, 1], GgmlType::F32),
            Err(GgufError::TooManyDims { n_dims: 5, .. })
        ));
        assert!(matches!(
            validate_shape("t", &[4, 0], GgmlType::F32),
            Err(GgufError::ZeroDim { .. })
        ));
        assert!(matches!(
            validate_shape("t", &[48], GgmlType::Q4_K),
            Err(GgufError::RowNotBlockMultiple {
                row_len: 48,
                block_size: 256,
                ..
            })
        ));
        assert!(matches!(
            validate_shape("t", &[1 << 32, 1 << 32], GgmlType::F32),
            Err(GgufError::ShapeOverflow { .. })
        ));
        // The element count fits, the byte count does not.
        assert!(matches!(
            validate_shape("t", &[1 << 62], GgmlType::F32),
            Err(GgufError::ShapeOverflow { .. })
        ));
    }

    #[test]
    fn sizes_of_a_hand_made_info_never_panic() {
        let info = TensorInfo {
            name: "x".into(),
            dims: vec![u64::MAX, 2],
            ggml_type: GgmlType::F32,
            offset: 0,
        };
        assert_eq!(info.n_elements(), u64::MAX);
        assert_eq!(info.n_bytes(), u64::MAX);
    }
}

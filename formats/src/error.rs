//! The one error type of this crate. Every variant says what is wrong and where: a byte
//! offset into the file, a metadata key or a tensor name.

use std::io;

use crate::ggml_type::{GgmlType, TypeIdError};
use crate::value::ValueType;

/// What went wrong while reading, validating or writing a GGUF file.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum GgufError {
    /// An operating-system error; `what` says which operation on which file.
    #[error("{what}: {source}")]
    Io {
        /// The operation, e.g. `opening /models/x.gguf` or `writing tensor data`.
        what: String,
        /// The underlying error.
        #[source]
        source: io::Error,
    },

    /// The file does not start with `GGUF`.
    #[error(
        "not a GGUF file: the first 4 bytes are {found:02x?}, expected \"GGUF\" (47 47 55 46)"
    )]
    BadMagic {
        /// The first four bytes of the file.
        found: [u8; 4],
    },

    /// The version field holds a version this reader does not handle.
    #[error("{}", unsupported_version_message(*.version))]
    UnsupportedVersion {
        /// The version read from byte 4.
        version: u32,
    },

    /// The file ends in the middle of something.
    #[error("file truncated: {what} at byte {offset} needs {needed} bytes, only {available} left")]
    Truncated {
        /// What was being read.
        what: &'static str,
        /// Byte offset where it starts.
        offset: u64,
        /// Bytes it needs.
        needed: u64,
        /// Bytes left in the file from `offset`.
        available: u64,
    },

    /// A string's length prefix points past the end of the file.
    #[error(
        "{what} at byte {offset} claims {len} bytes, but only {available} are left in the file"
    )]
    StringBeyondEnd {
        /// Which string: metadata key, string value, tensor name.
        what: &'static str,
        /// Byte offset of the length prefix.
        offset: u64,
        /// The claimed length.
        len: u64,
        /// Bytes left after the length prefix.
        available: u64,
    },

    /// A count (tensors, metadata entries, array elements) is larger than the rest of the
    /// file could possibly hold, given the smallest encoding of one item.
    #[error(
        "{what} at byte {offset} is {count}, but each needs at least {min_bytes_each} bytes \
         and only {available} are left in the file"
    )]
    CountTooLarge {
        /// Which count: `tensor count`, `metadata entry count`, `array length`.
        what: &'static str,
        /// Byte offset of the count field.
        offset: u64,
        /// The count read.
        count: u64,
        /// The smallest number of bytes one item takes in the file.
        min_bytes_each: u64,
        /// Bytes left in the file after the count.
        available: u64,
    },

    /// Arrays nested deeper than [`MAX_ARRAY_DEPTH`](crate::MAX_ARRAY_DEPTH).
    #[error("array at byte {offset} is nested {depth} deep; at most {max} levels are allowed")]
    NestingTooDeep {
        /// Byte offset of the array's element type field.
        offset: u64,
        /// Its nesting depth (a top-level array is depth 1).
        depth: usize,
        /// The limit.
        max: usize,
    },

    /// A metadata value type id outside 0..=12.
    #[error("invalid metadata value type id {id} at byte {offset}")]
    InvalidValueType {
        /// Byte offset of the type id.
        offset: u64,
        /// The id read.
        id: u32,
    },

    /// A bool byte other than 0 or 1.
    #[error("invalid bool byte {byte:#04x} at byte {offset} (must be 0 or 1)")]
    InvalidBool {
        /// Byte offset of the bool.
        offset: u64,
        /// The byte read.
        byte: u8,
    },

    /// A key, string value or tensor name that is not valid UTF-8.
    #[error("{what} at byte {offset} is not valid UTF-8")]
    InvalidUtf8 {
        /// Which string: metadata key, string value, tensor name.
        what: &'static str,
        /// Byte offset of the string's first byte.
        offset: u64,
    },

    /// The same metadata key twice.
    #[error("duplicate metadata key '{key}' at byte {offset}")]
    DuplicateKey {
        /// The key.
        key: String,
        /// Byte offset of the second occurrence (where it would be written, for the writer).
        offset: u64,
    },

    /// The same tensor name twice.
    #[error("duplicate tensor name '{name}' at byte {offset}")]
    DuplicateTensor {
        /// The tensor name.
        name: String,
        /// Byte offset of the second occurrence (where it would be written, for the writer).
        offset: u64,
    },

    /// `general.alignment` has a type other than u32.
    #[error("general.alignment must be a u32, found {found}")]
    AlignmentType {
        /// The type found.
        found: ValueType,
    },

    /// `general.alignment` is 0 or not a power of two.
    #[error("general.alignment is {alignment}; it must be a non-zero power of two")]
    InvalidAlignment {
        /// The value found.
        alignment: u32,
    },

    /// More dimensions than ggml supports.
    #[error("tensor '{tensor}' has {n_dims} dimensions; at most {max} are allowed")]
    TooManyDims {
        /// Tensor name.
        tensor: String,
        /// Dimension count read.
        n_dims: u32,
        /// The limit ([`MAX_DIMS`](crate::MAX_DIMS)).
        max: u32,
    },

    /// A dimension of size zero.
    #[error("tensor '{tensor}' has a zero dimension: {dims:?}")]
    ZeroDim {
        /// Tensor name.
        tensor: String,
        /// Its dimensions, ggml order.
        dims: Vec<u64>,
    },

    /// The element count or byte size of a tensor does not fit in 64 bits.
    #[error("tensor '{tensor}' with dimensions {dims:?} is too large: its size overflows 64 bits")]
    ShapeOverflow {
        /// Tensor name.
        tensor: String,
        /// Its dimensions, ggml order.
        dims: Vec<u64>,
    },

    /// A ggml type id that is unknown or was removed from ggml.
    #[error("tensor '{tensor}': {source}")]
    TensorType {
        /// Tensor name.
        tensor: String,
        /// Which: removed or unknown, with the id.
        #[source]
        source: TypeIdError,
    },

    /// The row length (first dimension) is not a multiple of the type's block size.
    #[error(
        "tensor '{tensor}' of type {ggml_type}: row length {row_len} is not a multiple of the \
         block size {block_size}"
    )]
    RowNotBlockMultiple {
        /// Tensor name.
        tensor: String,
        /// Its type.
        ggml_type: GgmlType,
        /// First dimension.
        row_len: u64,
        /// Block size of the type.
        block_size: u64,
    },

    /// A tensor's data offset is not a multiple of the file's alignment.
    #[error(
        "tensor '{tensor}': data offset {offset} is not a multiple of the alignment {alignment}"
    )]
    MisalignedTensor {
        /// Tensor name.
        tensor: String,
        /// Offset relative to the data section.
        offset: u64,
        /// The file's alignment.
        alignment: u64,
    },

    /// A tensor's data extends past the end of the file.
    #[error(
        "tensor '{tensor}': data at offset {offset} with {n_bytes} bytes ends past the end of \
         the data section ({data_size} bytes)"
    )]
    TensorOutOfBounds {
        /// Tensor name.
        tensor: String,
        /// Offset relative to the data section.
        offset: u64,
        /// Its size in bytes.
        n_bytes: u64,
        /// Size of the data section (file size minus data offset).
        data_size: u64,
    },

    /// Two tensors' data ranges overlap.
    #[error("tensor '{tensor}' (data {start}..{end}) overlaps tensor '{other}' (data ends at {other_end})")]
    TensorOverlap {
        /// The tensor starting later.
        tensor: String,
        /// Its data range, relative to the data section.
        start: u64,
        /// End of its range (exclusive).
        end: u64,
        /// The tensor it overlaps.
        other: String,
        /// End of the other tensor's range (exclusive).
        other_end: u64,
    },

    /// A metadata key that is not in the file.
    #[error("metadata key '{key}' not found")]
    MissingKey {
        /// The key asked for.
        key: String,
    },

    /// A metadata value of another type than asked for.
    #[error("metadata key '{key}' has type {found}, expected {expected}")]
    WrongType {
        /// The key.
        key: String,
        /// The type asked for.
        expected: ValueType,
        /// The type in the file.
        found: ValueType,
    },

    /// [`GgufFile::get_usize`](crate::GgufFile::get_usize) on a value that is not an integer.
    #[error("metadata key '{key}' has type {found}, expected an integer")]
    NotAnInteger {
        /// The key.
        key: String,
        /// The type in the file.
        found: ValueType,
    },

    /// An integer that does not fit the type asked for (e.g. a negative count).
    #[error("metadata key '{key}' holds {value}, which does not fit in {target}")]
    IntegerOutOfRange {
        /// The key.
        key: String,
        /// The value in the file.
        value: i128,
        /// The Rust type asked for.
        target: &'static str,
    },

    /// [`GgufWriter::write_tensor`](crate::GgufWriter::write_tensor) called out of order.
    #[error("tensor data written out of order: expected {}, got '{got}'", expected_tensor(.expected))]
    TensorOrder {
        /// The tensor whose data is due next, if any.
        expected: Option<String>,
        /// The name passed.
        got: String,
    },

    /// Tensor data of the wrong length handed to the writer.
    #[error("tensor '{tensor}': got {got} bytes of data, its shape and type need {expected}")]
    TensorSizeMismatch {
        /// Tensor name.
        tensor: String,
        /// Bytes the tensor takes.
        expected: u64,
        /// Bytes passed.
        got: u64,
    },

    /// The writer was finished before all tensors were written.
    #[error("GGUF writer finished before the data of tensor '{tensor}' was written")]
    MissingTensorData {
        /// The first tensor not written.
        tensor: String,
    },

    /// The caller's progress callback asked to stop reading the file.
    #[error("reading the file was cancelled by the progress callback")]
    Cancelled,
}

fn unsupported_version_message(version: u32) -> String {
    if version == 1 {
        return "GGUF version 1 is not supported (it used 32-bit counts and lengths); \
                re-convert the model with a current llama.cpp"
            .to_string();
    }
    // A big-endian file written for s390x and the like reads as a byte-swapped version.
    let swapped = version.swap_bytes();
    if swapped == 2 || swapped == 3 {
        return format!(
            "GGUF version field reads {version:#010x}: this looks like a big-endian GGUF v{swapped} \
             file, and only little-endian files are supported"
        );
    }
    format!("unsupported GGUF version {version}; versions 2 and 3 are supported")
}

fn expected_tensor(expected: &Option<String>) -> String {
    match expected {
        Some(name) => format!("'{name}'"),
        None => "no more tensors".to_string(),
    }
}

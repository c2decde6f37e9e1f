//! edge-formats: reading and writing GGUF, the file format of llama.cpp models.
//!
//! Reading validates everything it is told by the file (lengths, counts, offsets, types)
//! before trusting it, and exposes tensor data as zero-copy views into a memory map.
//! Writing streams tensor data, one tensor at a time, and enforces the same rules.
//!
//! ```no_run
//! use edge_formats::GgufFile;
//! let file = GgufFile::open("model.gguf")?;
//! let arch = file.get_str("general.architecture")?;
//! let embd = file.tensor("token_embd.weight").expect("no embeddings");
//! let bytes: &[u8] = file.tensor_data(embd);
//! # Ok::<(), edge_formats::GgufError>(())
//! ```
#![deny(unsafe_op_in_unsafe_fn)]
#![warn(missing_docs)]

mod bytes;
mod encode;
mod error;
mod file_writer;
pub mod ggml_type;
mod parse;
mod reader;
mod storage;
mod tensor;
mod value;
mod writer;

pub use error::GgufError;
pub use file_writer::GgufFileWriter;
pub use ggml_type::{GgmlType, TypeIdError};
pub use reader::GgufFile;
pub use storage::MEMORY_ALIGNMENT;
pub use tensor::{TensorInfo, TensorSpec, MAX_DIMS};
pub use value::{Array, Value, ValueType};
pub use writer::GgufWriter;

/// The first four bytes of every GGUF file.
pub const GGUF_MAGIC: [u8; 4] = *b"GGUF";

/// The metadata key holding the data alignment (a u32 power of two).
pub const ALIGNMENT_KEY: &str = "general.alignment";

/// Alignment when the file has no `general.alignment`.
pub const DEFAULT_ALIGNMENT: u64 = 32;

/// Deepest nesting of metadata arrays accepted (an array of scalars is depth 1). Real
/// files use 1; the cap bounds recursion on hostile input.
pub const MAX_ARRAY_DEPTH: usize = 8;

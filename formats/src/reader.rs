//! [`GgufFile`]: an open, validated GGUF file and typed access to its metadata and tensors.

use std::fs::File;
use std::path::Path;

use crate::error::GgufError;
use crate::parse::{parse, Header};
use crate::storage::Storage;
use crate::tensor::TensorInfo;
use crate::value::{Array, Value, ValueType};

/// An open GGUF file. Its metadata and tensor infos are parsed and fully validated when it
/// is opened; tensor data stays in the file and is handed out as zero-copy slices.
///
/// Alignment of tensor data in memory: with [`open`](GgufFile::open) the file is mapped at a
/// page boundary, so each tensor's data is aligned to [`alignment`](GgufFile::alignment) for
/// alignments up to the page size (4 KiB or more). With [`from_bytes`](GgufFile::from_bytes)
/// the bytes are kept in 64-byte-aligned memory, so the guarantee holds for alignments up
/// to [`MEMORY_ALIGNMENT`](crate::MEMORY_ALIGNMENT) (64), which covers every file written
/// with the default alignment of 32.
pub struct GgufFile {
    storage: Storage,
    header: Header,
}

impl std::fmt::Debug for GgufFile {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GgufFile")
            .field("version", &self.header.version)
            .field("file_size", &self.file_size())
            .field("alignment", &self.header.alignment)
            .field("data_offset", &self.header.data_offset)
            .field("metadata_entries", &self.header.metadata.len())
            .field("tensors", &self.header.tensors.len())
            .finish()
    }
}

macro_rules! strict_getters {
    ($($(#[$doc:meta])* $name:ident => $variant:ident : $ty:ty),* $(,)?) => {
        $(
            $(#[$doc])*
            pub fn $name(&self, key: &str) -> Result<$ty, GgufError> {
                match self.value(key)? {
                    Value::$variant(v) => Ok(*v),
                    other => Err(wrong_type(key, ValueType::$variant, other)),
                }
            }
        )*
    };
}

impl GgufFile {
    /// Opens and validates the file at `path`, mapping it read-only.
    ///
    /// As with any memory-mapped file, the file must not be truncated or modified by
    /// another process while the `GgufFile` is alive.
    pub fn open(path: impl AsRef<Path>) -> Result<GgufFile, GgufError> {
        let path = path.as_ref();
        let io_error = |source| GgufError::Io {
            what: format!("opening {}", path.display()),
            source,
        };
        let file = File::open(path).map_err(io_error)?;
        let storage = Storage::map(&file).map_err(io_error)?;
        GgufFile::from_storage(storage)
    }

    /// Reads the whole file at `path` into memory and validates it: slower to open than
    /// [`open`](Self::open) (one copy of the file), but the memory is in transparent huge
    /// pages where the OS offers them, which makes passes over every tensor (decoding)
    /// faster, and later changes to the file cannot affect it.
    pub fn read(path: impl AsRef<Path>) -> Result<GgufFile, GgufError> {
        let path = path.as_ref();
        let io_error = |source| GgufError::Io {
            what: format!("reading {}", path.display()),
            source,
        };
        let file = File::open(path).map_err(io_error)?;
        let storage = Storage::read(&file).map_err(io_error)?;
        GgufFile::from_storage(storage)
    }

    /// As [`read`](Self::read), reading on the calling thread in pieces of at most
    /// `piece` bytes and calling `progress(done, total)` (in bytes) after each; when it
    /// returns `false`, reading stops with [`GgufError::Cancelled`] and the memory is
    /// released.
    pub fn read_with_progress(
        path: impl AsRef<Path>,
        piece: usize,
        progress: impl FnMut(usize, usize) -> bool,
    ) -> Result<GgufFile, GgufError> {
        let path = path.as_ref();
        let io_error = |source| GgufError::Io {
            what: format!("reading {}", path.display()),
            source,
        };
        let file = File::open(path).map_err(io_error)?;
        match Storage::read_in_pieces(&file, piece, progress).map_err(io_error)? {
            Some(storage) => GgufFile::from_storage(storage),
            None => Err(GgufError::Cancelled),
        }
    }

    /// Parses and validates a GGUF file held in memory. Unless `bytes` already starts on a
    /// 64-byte boundary it is copied once into aligned memory (see the type's docs).
    pub fn from_bytes(bytes: Vec<u8>) -> Result<GgufFile, GgufError> {
        GgufFile::from_storage(Storage::from_vec(bytes))
    }

    fn from_storage(storage: Storage) -> Result<GgufFile, GgufError> {
        let header = parse(storage.bytes())?;
        Ok(GgufFile { storage, header })
    }

    /// The GGUF version (2 or 3).
    pub fn version(&self) -> u32 {
        self.header.version
    }

    /// Alignment of the data section and of every tensor's offset in it: `general.alignment`
    /// or the default of 32.
    pub fn alignment(&self) -> u64 {
        self.header.alignment
    }

    /// Size of the whole file in bytes.
    pub fn file_size(&self) -> u64 {
        self.storage.bytes().len() as u64
    }

    /// Byte offset of the tensor data section from the start of the file.
    pub fn data_offset(&self) -> u64 {
        self.header.data_offset
    }

    /// The whole file.
    pub fn as_bytes(&self) -> &[u8] {
        self.storage.bytes()
    }

    /// All metadata entries, in file order.
    pub fn metadata(&self) -> &[(String, Value)] {
        &self.header.metadata
    }

    /// The value of metadata key `key`.
    pub fn get(&self, key: &str) -> Option<&Value> {
        let &i = self.header.key_index.get(key)?;
        self.header.metadata.get(i).map(|(_, v)| v)
    }

    fn value(&self, key: &str) -> Result<&Value, GgufError> {
        self.get(key).ok_or_else(|| GgufError::MissingKey {
            key: key.to_string(),
        })
    }

    strict_getters! {
        /// The u8 value of `key`; an error if it is missing or of another type.
        get_u8 => U8: u8,
        /// The i8 value of `key`; an error if it is missing or of another type.
        get_i8 => I8: i8,
        /// The u16 value of `key`; an error if it is missing or of another type.
        get_u16 => U16: u16,
        /// The i16 value of `key`; an error if it is missing or of another type.
        get_i16 => I16: i16,
        /// The u32 value of `key`; an error if it is missing or of another type.
        get_u32 => U32: u32,
        /// The i32 value of `key`; an error if it is missing or of another type.
        get_i32 => I32: i32,
        /// The u64 value of `key`; an error if it is missing or of another type.
        get_u64 => U64: u64,
        /// The i64 value of `key`; an error if it is missing or of another type.
        get_i64 => I64: i64,
        /// The f32 value of `key`; an error if it is missing or of another type.
        get_f32 => F32: f32,
        /// The f64 value of `key`; an error if it is missing or of another type.
        get_f64 => F64: f64,
        /// The bool value of `key`; an error if it is missing or of another type.
        get_bool => Bool: bool,
    }

    /// The string value of `key`; an error if it is missing or of another type.
    pub fn get_str(&self, key: &str) -> Result<&str, GgufError> {
        match self.value(key)? {
            Value::String(s) => Ok(s),
            other => Err(wrong_type(key, ValueType::String, other)),
        }
    }

    /// The array value of `key`; an error if it is missing or of another type.
    pub fn get_array(&self, key: &str) -> Result<&Array, GgufError> {
        match self.value(key)? {
            Value::Array(a) => Ok(a),
            other => Err(wrong_type(key, ValueType::Array, other)),
        }
    }

    /// The value of `key` as a `usize`, accepting any integer type whose value fits:
    /// llama.cpp's converters store hyperparameters as u32, i32 or u64 depending on the
    /// model and the converter version.
    pub fn get_usize(&self, key: &str) -> Result<usize, GgufError> {
        let value = self.value(key)?;
        let int = value.as_integer().ok_or_else(|| GgufError::NotAnInteger {
            key: key.to_string(),
            found: value.value_type(),
        })?;
        usize::try_from(int).map_err(|_| GgufError::IntegerOutOfRange {
            key: key.to_string(),
            value: int,
            target: "usize",
        })
    }

    /// All tensor infos, in file order.
    pub fn tensors(&self) -> &[TensorInfo] {
        &self.header.tensors
    }

    /// The tensor named `name`.
    pub fn tensor(&self, name: &str) -> Option<&TensorInfo> {
        let &i = self.header.tensor_index.get(name)?;
        self.header.tensors.get(i)
    }

    /// The data of a tensor of this file: exactly `info.n_bytes()` bytes, borrowed from the
    /// map or buffer without copying.
    ///
    /// `info` should come from [`tensors`](Self::tensors) or [`tensor`](Self::tensor) of
    /// this same file; for a `TensorInfo` whose range lies outside this file's data section
    /// the result is an empty slice.
    pub fn tensor_data(&self, info: &TensorInfo) -> &[u8] {
        self.data_range(info).unwrap_or(&[])
    }

    /// Hints that `info`'s data will not be read again soon, so a mapped file's pages of it
    /// can leave the resident set (peak memory of a pass over all tensors, such as
    /// quantization, then stays near one tensor instead of the whole file). Reading the data
    /// again afterwards is fine: it is faulted back in from the file. No effect on a file
    /// read with [`read`](Self::read) or [`from_bytes`](Self::from_bytes).
    pub fn release_tensor_data(&self, info: &TensorInfo) {
        let Some(start) = self.header.data_offset.checked_add(info.offset) else {
            return;
        };
        let Some(end) = start.checked_add(info.n_bytes()) else {
            return;
        };
        if let (Ok(start), Ok(end)) = (usize::try_from(start), usize::try_from(end)) {
            self.storage.release(start, end);
        }
    }

    fn data_range(&self, info: &TensorInfo) -> Option<&[u8]> {
        let start = self.header.data_offset.checked_add(info.offset)?;
        let end = start.checked_add(info.n_bytes())?;
        let start = usize::try_from(start).ok()?;
        let end = usize::try_from(end).ok()?;
        self.storage.bytes().get(start..end)
    }
}

fn wrong_type(key: &str, expected: ValueType, found: &Value) -> GgufError {
    GgufError::WrongType {
        key: key.to_string(),
        expected,
        found: found.value_type(),
    }
}

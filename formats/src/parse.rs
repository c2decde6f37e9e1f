//! Parsing and validating everything before the tensor data: header, metadata, tensor
//! infos, and the layout of the data section.

use std::collections::HashMap;

use crate::bytes::Cursor;
use crate::error::GgufError;
use crate::ggml_type::GgmlType;
use crate::tensor::{validate_shape, TensorInfo, MAX_DIMS};
use crate::value::{Array, Value, ValueType};
use crate::{ALIGNMENT_KEY, DEFAULT_ALIGNMENT, GGUF_MAGIC, MAX_ARRAY_DEPTH};

/// Smallest metadata entry: key length (8), value type (4), and at least one byte of key
/// or value (an empty key is allowed, an empty value is not).
const MIN_KV_BYTES: u64 = 8 + 1 + 4;
/// Smallest tensor info: name length (8), dimension count (4), type (4), offset (8).
const MIN_TENSOR_INFO_BYTES: u64 = 8 + 4 + 4 + 8;

/// Everything the file says about itself, validated; the tensor data stays in the file.
#[derive(Debug)]
pub(crate) struct Header {
    pub(crate) version: u32,
    pub(crate) alignment: u64,
    pub(crate) data_offset: u64,
    pub(crate) metadata: Vec<(String, Value)>,
    pub(crate) key_index: HashMap<String, usize>,
    pub(crate) tensors: Vec<TensorInfo>,
    pub(crate) tensor_index: HashMap<String, usize>,
}

/// Parses and validates the whole file layout; `data` is the complete file.
pub(crate) fn parse(data: &[u8]) -> Result<Header, GgufError> {
    let mut cur = Cursor::new(data);
    let magic: [u8; 4] = cur.array("magic")?;
    if magic != GGUF_MAGIC {
        return Err(GgufError::BadMagic { found: magic });
    }
    let version = cur.u32("version")?;
    if version != 2 && version != 3 {
        return Err(GgufError::UnsupportedVersion { version });
    }
    let tensor_count_offset = cur.pos();
    let tensor_count = cur.u64("tensor count")?;
    let kv_count_offset = cur.pos();
    let kv_count = cur.u64("metadata entry count")?;
    // Both sections follow: each count alone must fit in what is left.
    cur.check_count(
        "tensor count",
        tensor_count_offset,
        tensor_count,
        MIN_TENSOR_INFO_BYTES,
    )?;
    let kv_count = cur.check_count(
        "metadata entry count",
        kv_count_offset,
        kv_count,
        MIN_KV_BYTES,
    )?;

    let (metadata, key_index) = read_metadata(&mut cur, kv_count)?;
    let alignment = alignment_of(&metadata, &key_index)?;

    // Checked again now that the metadata has been consumed.
    let tensor_count = cur.check_count(
        "tensor count",
        tensor_count_offset,
        tensor_count,
        MIN_TENSOR_INFO_BYTES,
    )?;
    let (tensors, tensor_index) = read_tensor_infos(&mut cur, tensor_count)?;

    let file_size = data.len() as u64;
    let data_offset = data_section_offset(cur.pos(), alignment, file_size, !tensors.is_empty())?;
    if !tensors.is_empty() {
        cur.seek(data_offset, "padding before the tensor data")?;
    }
    check_tensor_layout(&tensors, alignment, file_size.saturating_sub(data_offset))?;

    Ok(Header {
        version,
        alignment,
        data_offset,
        metadata,
        key_index,
        tensors,
        tensor_index,
    })
}

type Metadata = (Vec<(String, Value)>, HashMap<String, usize>);

fn read_metadata(cur: &mut Cursor<'_>, count: usize) -> Result<Metadata, GgufError> {
    let mut metadata = Vec::with_capacity(count);
    let mut index = HashMap::with_capacity(count);
    for i in 0..count {
        let key_offset = cur.pos();
        let key = cur.string("metadata key")?;
        let type_offset = cur.pos();
        let type_id = cur.u32("metadata value type")?;
        let value_type = ValueType::from_id(type_id).ok_or(GgufError::InvalidValueType {
            offset: type_offset,
            id: type_id,
        })?;
        let value = read_value(cur, value_type)?;
        if index.insert(key.to_string(), i).is_some() {
            return Err(GgufError::DuplicateKey {
                key: key.to_string(),
                offset: key_offset,
            });
        }
        metadata.push((key.to_string(), value));
    }
    Ok((metadata, index))
}

/// The value of a metadata entry, of a known type.
fn read_value(cur: &mut Cursor<'_>, value_type: ValueType) -> Result<Value, GgufError> {
    Ok(match value_type {
        ValueType::U8 => Value::U8(cur.u8("u8 value")?),
        ValueType::I8 => Value::I8(i8::from_le_bytes(cur.array("i8 value")?)),
        ValueType::U16 => Value::U16(u16::from_le_bytes(cur.array("u16 value")?)),
        ValueType::I16 => Value::I16(i16::from_le_bytes(cur.array("i16 value")?)),
        ValueType::U32 => Value::U32(cur.u32("u32 value")?),
        ValueType::I32 => Value::I32(i32::from_le_bytes(cur.array("i32 value")?)),
        ValueType::F32 => Value::F32(f32::from_le_bytes(cur.array("f32 value")?)),
        ValueType::Bool => Value::Bool(read_bool(cur)?),
        ValueType::String => Value::String(cur.string("string value")?.to_string()),
        ValueType::Array => Value::Array(read_array(cur, 1)?),
        ValueType::U64 => Value::U64(cur.u64("u64 value")?),
        ValueType::I64 => Value::I64(i64::from_le_bytes(cur.array("i64 value")?)),
        ValueType::F64 => Value::F64(f64::from_le_bytes(cur.array("f64 value")?)),
    })
}

fn read_bool(cur: &mut Cursor<'_>) -> Result<bool, GgufError> {
    let offset = cur.pos();
    match cur.u8("bool value")? {
        0 => Ok(false),
        1 => Ok(true),
        byte => Err(GgufError::InvalidBool { offset, byte }),
    }
}

/// An array at nesting `depth` (1 for an array directly in a metadata entry).
fn read_array(cur: &mut Cursor<'_>, depth: usize) -> Result<Array, GgufError> {
    let type_offset = cur.pos();
    if depth > MAX_ARRAY_DEPTH {
        return Err(GgufError::NestingTooDeep {
            offset: type_offset,
            depth,
            max: MAX_ARRAY_DEPTH,
        });
    }
    let type_id = cur.u32("array element type")?;
    let element_type = ValueType::from_id(type_id).ok_or(GgufError::InvalidValueType {
        offset: type_offset,
        id: type_id,
    })?;
    let count_offset = cur.pos();
    let count = cur.u64("array length")?;
    let count = cur.check_count(
        "array length",
        count_offset,
        count,
        element_type.min_encoded_size(),
    )?;

    // `count` is now bounded by the bytes left, so these allocations are too.
    fn collect<T>(
        cur: &mut Cursor<'_>,
        count: usize,
        mut read: impl FnMut(&mut Cursor<'_>) -> Result<T, GgufError>,
    ) -> Result<Vec<T>, GgufError> {
        let mut items = Vec::with_capacity(count);
        for _ in 0..count {
            items.push(read(cur)?);
        }
        Ok(items)
    }

    Ok(match element_type {
        ValueType::U8 => Array::U8(cur.take(count as u64, "u8 array")?.to_vec()),
        ValueType::I8 => Array::I8(collect(cur, count, |c| {
            Ok(i8::from_le_bytes(c.array("i8 value")?))
        })?),
        ValueType::U16 => Array::U16(collect(cur, count, |c| {
            Ok(u16::from_le_bytes(c.array("u16 value")?))
        })?),
        ValueType::I16 => Array::I16(collect(cur, count, |c| {
            Ok(i16::from_le_bytes(c.array("i16 value")?))
        })?),
        ValueType::U32 => Array::U32(collect(cur, count, |c| c.u32("u32 value"))?),
        ValueType::I32 => Array::I32(collect(cur, count, |c| {
            Ok(i32::from_le_bytes(c.array("i32 value")?))
        })?),
        ValueType::F32 => Array::F32(collect(cur, count, |c| {
            Ok(f32::from_le_bytes(c.array("f32 value")?))
        })?),
        ValueType::Bool => Array::Bool(collect(cur, count, read_bool)?),
        ValueType::String => Array::String(collect(cur, count, |c| {
            Ok(c.string("string value")?.to_string())
        })?),
        ValueType::Array => Array::Array(collect(cur, count, |c| read_array(c, depth + 1))?),
        ValueType::U64 => Array::U64(collect(cur, count, |c| c.u64("u64 value"))?),
        ValueType::I64 => Array::I64(collect(cur, count, |c| {
            Ok(i64::from_le_bytes(c.array("i64 value")?))
        })?),
        ValueType::F64 => Array::F64(collect(cur, count, |c| {
            Ok(f64::from_le_bytes(c.array("f64 value")?))
        })?),
    })
}

/// `general.alignment` if present (a non-zero power-of-two u32), else the default.
pub(crate) fn alignment_of(
    metadata: &[(String, Value)],
    index: &HashMap<String, usize>,
) -> Result<u64, GgufError> {
    let Some(value) = index
        .get(ALIGNMENT_KEY)
        .and_then(|&i| metadata.get(i))
        .map(|(_, v)| v)
    else {
        return Ok(DEFAULT_ALIGNMENT);
    };
    check_alignment_value(value)
}

/// Validates a `general.alignment` value.
pub(crate) fn check_alignment_value(value: &Value) -> Result<u64, GgufError> {
    match *value {
        Value::U32(a) if a.is_power_of_two() => Ok(u64::from(a)),
        Value::U32(a) => Err(GgufError::InvalidAlignment { alignment: a }),
        ref other => Err(GgufError::AlignmentType {
            found: other.value_type(),
        }),
    }
}

type Tensors = (Vec<TensorInfo>, HashMap<String, usize>);

fn read_tensor_infos(cur: &mut Cursor<'_>, count: usize) -> Result<Tensors, GgufError> {
    let mut tensors = Vec::with_capacity(count);
    let mut index = HashMap::with_capacity(count);
    for i in 0..count {
        let name_offset = cur.pos();
        let name = cur.string("tensor name")?;
        let n_dims = cur.u32("tensor dimension count")?;
        if n_dims > MAX_DIMS {
            return Err(GgufError::TooManyDims {
                tensor: name.to_string(),
                n_dims,
                max: MAX_DIMS,
            });
        }
        let mut dims = Vec::with_capacity(n_dims as usize);
        for _ in 0..n_dims {
            dims.push(cur.u64("tensor dimension")?);
        }
        let type_id = cur.u32("tensor type")?;
        let ggml_type = GgmlType::from_id(type_id).map_err(|source| GgufError::TensorType {
            tensor: name.to_string(),
            source,
        })?;
        let offset = cur.u64("tensor data offset")?;
        validate_shape(name, &dims, ggml_type)?;
        if index.insert(name.to_string(), i).is_some() {
            return Err(GgufError::DuplicateTensor {
                name: name.to_string(),
                offset: name_offset,
            });
        }
        tensors.push(TensorInfo {
            name: name.to_string(),
            dims,
            ggml_type,
            offset,
        });
    }
    Ok((tensors, index))
}

/// Where the data section starts: the end of the tensor infos, rounded up to the alignment.
/// A file without tensors may stop before that padding (llama.cpp does not require it
/// there), in which case the data section is empty and starts at the end of the file.
fn data_section_offset(
    infos_end: u64,
    alignment: u64,
    file_size: u64,
    has_tensors: bool,
) -> Result<u64, GgufError> {
    let aligned = align_up(infos_end, alignment).ok_or(GgufError::Truncated {
        what: "padding before the tensor data",
        offset: infos_end,
        needed: alignment,
        available: file_size.saturating_sub(infos_end),
    })?;
    if aligned <= file_size {
        Ok(aligned)
    } else if has_tensors {
        Err(GgufError::Truncated {
            what: "padding before the tensor data",
            offset: infos_end,
            needed: aligned - infos_end,
            available: file_size.saturating_sub(infos_end),
        })
    } else {
        Ok(file_size)
    }
}

/// `offset` rounded up to a multiple of `alignment` (a power of two), or `None` on overflow.
pub(crate) fn align_up(offset: u64, alignment: u64) -> Option<u64> {
    let mask = alignment.checked_sub(1)?;
    Some(offset.checked_add(mask)? & !mask)
}

/// Every tensor's data is aligned, inside the data section, and disjoint from the others.
fn check_tensor_layout(
    tensors: &[TensorInfo],
    alignment: u64,
    data_size: u64,
) -> Result<(), GgufError> {
    let mut ranges = Vec::with_capacity(tensors.len());
    for t in tensors {
        if t.offset % alignment != 0 {
            return Err(GgufError::MisalignedTensor {
                tensor: t.name.clone(),
                offset: t.offset,
                alignment,
            });
        }
        let n_bytes = t.n_bytes();
        let end = t
            .offset
            .checked_add(n_bytes)
            .filter(|&end| end <= data_size);
        let Some(end) = end else {
            return Err(GgufError::TensorOutOfBounds {
                tensor: t.name.clone(),
                offset: t.offset,
                n_bytes,
                data_size,
            });
        };
        ranges.push((t.offset, end, t.name.as_str()));
    }
    // Tensors need not be stored in info order, so compare neighbours by start offset.
    ranges.sort_unstable();
    for pair in ranges.windows(2) {
        if let [(_, prev_end, prev_name), (start, end, name)] = *pair {
            if start < prev_end {
                return Err(GgufError::TensorOverlap {
                    tensor: name.to_string(),
                    start,
                    end,
                    other: prev_name.to_string(),
                    other_end: prev_end,
                });
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn align_up_rounds_and_detects_overflow() {
        assert_eq!(align_up(0, 32), Some(0));
        assert_eq!(align_up(1, 32), Some(32));
        assert_eq!(align_up(64, 32), Some(64));
        assert_eq!(align_up(u64::MAX - 3, 32), None);
    }
}

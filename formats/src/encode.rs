//! Encoding the part of a GGUF file before the tensor data (header, metadata, tensor
//! infos, padding), validating it by the rules the reader enforces.

use std::collections::HashSet;

use crate::error::GgufError;
use crate::parse::{align_up, check_alignment_value};
use crate::tensor::{validate_shape, TensorSpec};
use crate::value::{Array, Value};
use crate::{ALIGNMENT_KEY, DEFAULT_ALIGNMENT, GGUF_MAGIC, MAX_ARRAY_DEPTH};

/// The version this crate writes.
pub(crate) const WRITE_VERSION: u32 = 3;

/// Where each tensor's data goes, as planned by [`encode_header`].
#[derive(Debug)]
pub(crate) struct PlannedTensor {
    pub(crate) name: String,
    pub(crate) n_bytes: u64,
}

/// An encoded header: the bytes up to the data section, already padded.
pub(crate) struct EncodedHeader {
    pub(crate) bytes: Vec<u8>,
    pub(crate) alignment: u64,
    pub(crate) tensors: Vec<PlannedTensor>,
}

/// Encodes header, metadata and tensor infos. Tensor data offsets are laid out in the
/// order of `tensors`, each padded to the alignment, as llama.cpp does.
pub(crate) fn encode_header(
    metadata: &[(String, Value)],
    tensors: &[TensorSpec],
) -> Result<EncodedHeader, GgufError> {
    let alignment = match metadata.iter().find(|(k, _)| k == ALIGNMENT_KEY) {
        Some((_, value)) => check_alignment_value(value)?,
        None => DEFAULT_ALIGNMENT,
    };

    let mut buf = Vec::new();
    buf.extend_from_slice(&GGUF_MAGIC);
    put_u32(&mut buf, WRITE_VERSION);
    put_u64(&mut buf, tensors.len() as u64);
    put_u64(&mut buf, metadata.len() as u64);

    let mut keys = HashSet::with_capacity(metadata.len());
    for (key, value) in metadata {
        let offset = buf.len() as u64;
        if !keys.insert(key.as_str()) {
            return Err(GgufError::DuplicateKey {
                key: key.clone(),
                offset,
            });
        }
        put_str(&mut buf, key);
        put_u32(&mut buf, value.value_type().id());
        put_value(&mut buf, value)?;
    }

    let mut names = HashSet::with_capacity(tensors.len());
    let mut planned = Vec::with_capacity(tensors.len());
    let mut next_offset = 0u64;
    for spec in tensors {
        let info_offset = buf.len() as u64;
        if !names.insert(spec.name.as_str()) {
            return Err(GgufError::DuplicateTensor {
                name: spec.name.clone(),
                offset: info_offset,
            });
        }
        let n_bytes = validate_shape(&spec.name, &spec.dims, spec.ggml_type)?;
        let overflow = || GgufError::ShapeOverflow {
            tensor: spec.name.clone(),
            dims: spec.dims.clone(),
        };
        let offset = next_offset;
        next_offset = offset
            .checked_add(n_bytes)
            .and_then(|end| align_up(end, alignment))
            .ok_or_else(overflow)?;

        put_str(&mut buf, &spec.name);
        // validate_shape capped the dimension count at MAX_DIMS, so this cannot truncate.
        put_u32(&mut buf, spec.dims.len() as u32);
        for &d in &spec.dims {
            put_u64(&mut buf, d);
        }
        put_u32(&mut buf, spec.ggml_type.id());
        put_u64(&mut buf, offset);
        planned.push(PlannedTensor {
            name: spec.name.clone(),
            n_bytes,
        });
    }

    let padded = align_up(buf.len() as u64, alignment).and_then(|n| usize::try_from(n).ok());
    if let Some(padded) = padded {
        buf.resize(padded, 0);
    }
    Ok(EncodedHeader {
        bytes: buf,
        alignment,
        tensors: planned,
    })
}

fn put_u32(buf: &mut Vec<u8>, v: u32) {
    buf.extend_from_slice(&v.to_le_bytes());
}

fn put_u64(buf: &mut Vec<u8>, v: u64) {
    buf.extend_from_slice(&v.to_le_bytes());
}

fn put_str(buf: &mut Vec<u8>, s: &str) {
    put_u64(buf, s.len() as u64);
    buf.extend_from_slice(s.as_bytes());
}

fn put_value(buf: &mut Vec<u8>, value: &Value) -> Result<(), GgufError> {
    match value {
        Value::U8(v) => buf.push(*v),
        Value::I8(v) => buf.extend_from_slice(&v.to_le_bytes()),
        Value::U16(v) => buf.extend_from_slice(&v.to_le_bytes()),
        Value::I16(v) => buf.extend_from_slice(&v.to_le_bytes()),
        Value::U32(v) => buf.extend_from_slice(&v.to_le_bytes()),
        Value::I32(v) => buf.extend_from_slice(&v.to_le_bytes()),
        Value::F32(v) => buf.extend_from_slice(&v.to_le_bytes()),
        Value::Bool(v) => buf.push(u8::from(*v)),
        Value::String(s) => put_str(buf, s),
        Value::Array(a) => put_array(buf, a, 1)?,
        Value::U64(v) => buf.extend_from_slice(&v.to_le_bytes()),
        Value::I64(v) => buf.extend_from_slice(&v.to_le_bytes()),
        Value::F64(v) => buf.extend_from_slice(&v.to_le_bytes()),
    }
    Ok(())
}

/// Writes the little-endian bytes of every element of a numeric slice.
macro_rules! put_numbers {
    ($buf:expr, $items:expr) => {
        for v in $items {
            $buf.extend_from_slice(&v.to_le_bytes());
        }
    };
}

/// An array at nesting `depth` (1 for an array directly in a metadata entry).
fn put_array(buf: &mut Vec<u8>, array: &Array, depth: usize) -> Result<(), GgufError> {
    if depth > MAX_ARRAY_DEPTH {
        return Err(GgufError::NestingTooDeep {
            offset: buf.len() as u64,
            depth,
            max: MAX_ARRAY_DEPTH,
        });
    }
    put_u32(buf, array.element_type().id());
    put_u64(buf, array.len() as u64);
    match array {
        Array::U8(v) => buf.extend_from_slice(v),
        Array::I8(v) => put_numbers!(buf, v),
        Array::U16(v) => put_numbers!(buf, v),
        Array::I16(v) => put_numbers!(buf, v),
        Array::U32(v) => put_numbers!(buf, v),
        Array::I32(v) => put_numbers!(buf, v),
        Array::F32(v) => put_numbers!(buf, v),
        Array::Bool(v) => buf.extend(v.iter().map(|&b| u8::from(b))),
        Array::String(v) => v.iter().for_each(|s| put_str(buf, s)),
        Array::Array(v) => {
            for inner in v {
                put_array(buf, inner, depth + 1)?;
            }
        }
        Array::U64(v) => put_numbers!(buf, v),
        Array::I64(v) => put_numbers!(buf, v),
        Array::F64(v) => put_numbers!(buf, v),
    }
    Ok(())
}

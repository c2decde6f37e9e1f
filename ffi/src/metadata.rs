//! The model file's metadata (GGUF key/value pairs) as text.

use std::ffi::c_char;

use edge_formats::Value;

use crate::boundary::{self, call, Failure, OutBuf};
use crate::model::{edge_model, model_ref};

/// A scalar metadata value as text: strings as they are, numbers in decimal, booleans as
/// `true`/`false`. Arrays are refused (they can hold a whole vocabulary).
fn value_text(key: &str, value: &Value) -> Result<String, Failure> {
    Ok(match value {
        Value::String(s) => s.clone(),
        Value::Bool(b) => b.to_string(),
        Value::F32(v) => v.to_string(),
        Value::F64(v) => v.to_string(),
        Value::Array(a) => {
            return Err(Failure::invalid(format!(
            "metadata `{key}` is an array of {} {} values; only scalar values are returned as text",
            a.len(),
            a.element_type().name()
        )))
        }
        other => match other.as_integer() {
            Some(i) => i.to_string(),
            None => {
                return Err(Failure::invalid(format!(
                    "metadata `{key}` has no text form"
                )))
            }
        },
    })
}

/// Copies the value of metadata `key` (e.g. `"general.architecture"`) into `buf` as
/// text: strings as they are, numbers in decimal, booleans as `true`/`false`.
///
/// Returns the length of the value in bytes, without the NUL. When `buf_len` is too
/// small (return value `>= buf_len`) a truncated, NUL-terminated copy is written; with
/// `buf_len` 0 nothing is written (`buf` may then be NULL), so that a first call can ask
/// for the size. Returns a negative value when the key is missing, holds an array, or an
/// argument is NULL or negative (see `edge_last_error()`).
///
/// Ownership: the caller owns `buf`. Thread-safe.
///
/// # Safety
/// `model` is NULL or a live handle; `key` is NULL or NUL-terminated; `buf` is writable
/// for `buf_len` bytes.
#[no_mangle]
pub unsafe extern "C" fn edge_model_meta_str(
    model: *const edge_model,
    key: *const c_char,
    buf: *mut c_char,
    buf_len: i32,
) -> i32 {
    call(-1, || {
        // SAFETY: forwarded from the caller's contract.
        let model = unsafe { model_ref(model) }?;
        // SAFETY: forwarded from the caller's contract.
        let key = unsafe { boundary::c_str(key, "key") }?;
        let out = OutBuf::new(buf, buf_len, "buf")?;
        let value = model
            .gguf()
            .get(key)
            .ok_or_else(|| Failure::invalid(format!("metadata key `{key}` is not in the model")))?;
        let text = value_text(key, value)?;
        // SAFETY: `buf` is writable for `buf_len` bytes per the contract.
        unsafe { out.write_str(text.as_bytes()) }
    })
}

/// The number of metadata entries of the model file, or -1 when `model` is NULL.
/// Thread-safe.
///
/// # Safety
/// `model` is NULL or a live handle.
#[no_mangle]
pub unsafe extern "C" fn edge_model_meta_count(model: *const edge_model) -> i32 {
    call(-1, || {
        // SAFETY: forwarded from the caller's contract.
        let model = unsafe { model_ref(model) }?;
        Ok(i32::try_from(model.gguf().metadata().len()).unwrap_or(i32::MAX))
    })
}

fn entry(model: &edge_runtime::llm::Model, index: i32) -> Result<&(String, Value), Failure> {
    let all = model.gguf().metadata();
    usize::try_from(index)
        .ok()
        .and_then(|i| all.get(i))
        .ok_or_else(|| {
            Failure::invalid(format!(
                "metadata index {index} is out of range (the model has {} entries)",
                all.len()
            ))
        })
}

/// Copies the key of metadata entry `index` (`0 <= index < edge_model_meta_count()`, in
/// file order) into `buf`, as `edge_model_meta_str` does; negative on a bad index or
/// argument. Thread-safe.
///
/// # Safety
/// `model` is NULL or a live handle; `buf` is writable for `buf_len` bytes.
#[no_mangle]
pub unsafe extern "C" fn edge_model_meta_key_by_index(
    model: *const edge_model,
    index: i32,
    buf: *mut c_char,
    buf_len: i32,
) -> i32 {
    call(-1, || {
        // SAFETY: forwarded from the caller's contract.
        let model = unsafe { model_ref(model) }?;
        let out = OutBuf::new(buf, buf_len, "buf")?;
        let (key, _) = entry(model, index)?;
        // SAFETY: `buf` is writable for `buf_len` bytes per the contract.
        unsafe { out.write_str(key.as_bytes()) }
    })
}

/// Copies the value of metadata entry `index` into `buf` as text, as
/// `edge_model_meta_str` does; negative on a bad index or argument, or when the value is
/// an array. Thread-safe.
///
/// # Safety
/// `model` is NULL or a live handle; `buf` is writable for `buf_len` bytes.
#[no_mangle]
pub unsafe extern "C" fn edge_model_meta_val_str_by_index(
    model: *const edge_model,
    index: i32,
    buf: *mut c_char,
    buf_len: i32,
) -> i32 {
    call(-1, || {
        // SAFETY: forwarded from the caller's contract.
        let model = unsafe { model_ref(model) }?;
        let out = OutBuf::new(buf, buf_len, "buf")?;
        let (key, value) = entry(model, index)?;
        let text = value_text(key, value)?;
        // SAFETY: `buf` is writable for `buf_len` bytes per the contract.
        unsafe { out.write_str(text.as_bytes()) }
    })
}

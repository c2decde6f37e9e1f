//! [`edge_model`]: loading a GGUF model, freeing it, and its sizes.

use std::ffi::{c_char, c_void};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use edge_formats::GgufFile;
use edge_runtime::llm::{Device, LoadParams, Model};

use crate::boundary::{self, call, call_status, store, Failure};
use crate::status::edge_status;

/// A loaded model: weights (memory-mapped, still quantized), tokenizer, chat template.
///
/// Opaque; create it with `edge_model_load`, release it with `edge_model_free`. Immutable
/// once loaded: any number of threads may use one model at the same time (tokenize,
/// create contexts, read metadata).
#[derive(Debug)]
pub struct edge_model {
    pub(crate) model: Arc<Model>,
}

/// Called while a model loads with the fraction done, in `[0, 1]` (it reaches `1.0` when
/// the model is ready). Return `true` to go on, `false` to cancel: `edge_model_load` then
/// returns `EDGE_ERR_CANCELLED` and releases everything it had loaded. Called on the
/// thread that called `edge_model_load`.
pub type edge_progress_callback =
    Option<unsafe extern "C" fn(progress: f32, user_data: *mut c_void) -> bool>;

/// How to load a model. Get the defaults from `edge_model_default_params()`, then change
/// what you need.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct edge_model_params {
    /// Map the file into memory (default `true`): the weights are read from the page
    /// cache as they are used and shared with other processes. `false` reads the whole
    /// file into memory first, in transparent huge pages where the OS offers them, which
    /// makes decoding faster (the file may then change or disappear).
    pub use_mmap: bool,
    /// Threads for the matrix products of every context of this model; `0` (default) uses
    /// every core. At most 1024.
    pub n_threads: i32,
    /// Called with the loading progress; NULL (default) for none.
    pub progress: edge_progress_callback,
    /// Passed to `progress` as is.
    pub progress_user_data: *mut c_void,
}

/// The most threads a model may ask for.
const MAX_THREADS: i32 = 1024;

/// The default model parameters: memory-mapped, every core, no progress callback.
/// Thread-safe.
#[no_mangle]
pub extern "C" fn edge_model_default_params() -> edge_model_params {
    edge_model_params {
        use_mmap: true,
        n_threads: 0,
        progress: None,
        progress_user_data: std::ptr::null_mut(),
    }
}

/// Loads the GGUF model at `path` (a NUL-terminated file name) and stores a new handle in
/// `*out`.
///
/// `params` may be NULL for the defaults. On failure `*out` is set to NULL and nothing is
/// leaked.
///
/// Returns `EDGE_OK`; `EDGE_ERR_INVALID_ARGUMENT` (NULL `path` or `out`, bad parameters);
/// `EDGE_ERR_IO` (missing or unreadable file); `EDGE_ERR_FORMAT` (not a valid model);
/// `EDGE_ERR_UNSUPPORTED` (an architecture, tensor type or tokenizer edge cannot run);
/// `EDGE_ERR_OUT_OF_MEMORY`; `EDGE_ERR_CANCELLED` (the progress callback returned false).
///
/// Ownership: the caller owns the model and frees it with `edge_model_free`.
/// Thread-safe: several models may load at the same time on different threads.
///
/// # Safety
/// `path` is NULL or a NUL-terminated string; `params` is NULL or points to an
/// `edge_model_params`; `out` is NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn edge_model_load(
    path: *const c_char,
    params: *const edge_model_params,
    out: *mut *mut edge_model,
) -> edge_status {
    // SAFETY: `out` is NULL or writable per the contract.
    unsafe { store(out, std::ptr::null_mut()) };
    call_status(|| {
        if out.is_null() {
            return Err(Failure::null("out"));
        }
        // SAFETY: NULL or NUL-terminated per the contract.
        let path = unsafe { boundary::c_bytes(path, "path") }?;
        let path = path_from_bytes(path)?;
        // SAFETY: NULL or a valid `edge_model_params` per the contract.
        let params = unsafe { params.as_ref() }
            .copied()
            .unwrap_or_else(|| edge_model_default_params());
        let model = load(&path, &params).map_err(|f| f.context(&path.display().to_string()))?;
        let handle = Box::into_raw(Box::new(edge_model {
            model: Arc::new(model),
        }));
        // SAFETY: `out` is non-NULL and writable.
        unsafe { out.write(handle) };
        Ok(())
    })
}

#[cfg(unix)]
fn path_from_bytes(bytes: &[u8]) -> Result<PathBuf, Failure> {
    use std::os::unix::ffi::OsStrExt;
    Ok(PathBuf::from(std::ffi::OsStr::from_bytes(bytes)))
}

#[cfg(not(unix))]
fn path_from_bytes(bytes: &[u8]) -> Result<PathBuf, Failure> {
    Ok(PathBuf::from(boundary::utf8(bytes, "path")?))
}

fn load(path: &Path, params: &edge_model_params) -> Result<Model, Failure> {
    if !(0..=MAX_THREADS).contains(&params.n_threads) {
        return Err(Failure::invalid(format!(
            "n_threads = {} is out of range (0 = every core, at most {MAX_THREADS})",
            params.n_threads
        )));
    }
    if path.is_dir() {
        return Err(Failure::new(
            edge_status::EDGE_ERR_IO,
            "is a directory, not a GGUF file",
        ));
    }
    let load = LoadParams {
        threads: params.n_threads as usize,
        device: Device::Cpu,
        mmap: params.use_mmap,
    };
    let callback = params.progress;
    let user_data = params.progress_user_data;
    let progress = move |fraction: f32| match callback {
        // SAFETY: the caller gave this function pointer and its user data for this call.
        Some(f) => unsafe { f(fraction, user_data) },
        None => true,
    };
    if params.use_mmap {
        return Ok(Model::load_with_progress(path, &load, progress)?);
    }
    let mut progress = progress;
    let file = read_file(path, &mut progress)?;
    Ok(Model::from_file_with_progress(file, &load, progress)?)
}

/// Reads the file at `path` into memory (in transparent huge pages where the OS offers
/// them, see `GgufFile::read`), reporting progress from 0 to 0.1 (the rest is the
/// runtime's loading).
fn read_file(path: &Path, progress: &mut impl FnMut(f32) -> bool) -> Result<GgufFile, Failure> {
    const CHUNK: usize = 16 << 20;
    if !progress(0.0) {
        return Err(Failure::new(
            edge_status::EDGE_ERR_CANCELLED,
            "loading was cancelled by the progress callback",
        ));
    }
    let file = GgufFile::read_with_progress(path, CHUNK, |done, total| {
        done == total || progress(0.1 * (done as f32 / total.max(1) as f32))
    })?;
    Ok(file)
}

/// Releases a model. NULL is a no-op.
///
/// Contexts created from the model keep what they need of it: the model's memory is
/// released when the last of them is freed, so the model may be freed first. Do not use
/// `model` again after this call.
///
/// # Safety
/// `model` is NULL or a handle from `edge_model_load` not yet freed, which no other
/// thread is using.
#[no_mangle]
pub unsafe extern "C" fn edge_model_free(model: *mut edge_model) {
    call((), || {
        if !model.is_null() {
            // SAFETY: a live handle from `Box::into_raw`, freed once, per the contract.
            drop(unsafe { Box::from_raw(model) });
        }
        Ok(())
    })
}

/// The model behind a handle.
///
/// # Safety
/// `model` is NULL or a live handle from `edge_model_load`.
pub(crate) unsafe fn model_ref<'a>(model: *const edge_model) -> Result<&'a Model, Failure> {
    // SAFETY: NULL or a live handle per the contract.
    unsafe { model.as_ref() }
        .map(|m| &*m.model)
        .ok_or_else(|| Failure::null("model"))
}

/// A size of the model as `int32_t`, or -1 (with the last error set) when `model` is
/// NULL.
unsafe fn size(model: *const edge_model, get: impl FnOnce(&Model) -> usize) -> i32 {
    call(-1, || {
        // SAFETY: forwarded from the caller's contract.
        let m = unsafe { model_ref(model) }?;
        Ok(i32::try_from(get(m)).unwrap_or(i32::MAX))
    })
}

/// The number of tokens in the vocabulary (the number of logits per token), or -1 when
/// `model` is NULL. Thread-safe.
///
/// # Safety
/// `model` is NULL or a live handle.
#[no_mangle]
pub unsafe extern "C" fn edge_model_n_vocab(model: *const edge_model) -> i32 {
    // SAFETY: forwarded from the caller's contract.
    unsafe { size(model, Model::n_vocab) }
}

/// The context length the model was trained with, or -1 when `model` is NULL.
/// Thread-safe.
///
/// # Safety
/// `model` is NULL or a live handle.
#[no_mangle]
pub unsafe extern "C" fn edge_model_n_ctx_train(model: *const edge_model) -> i32 {
    // SAFETY: forwarded from the caller's contract.
    unsafe { size(model, Model::n_ctx_train) }
}

/// The width of the model's embeddings, or -1 when `model` is NULL. Thread-safe.
///
/// # Safety
/// `model` is NULL or a live handle.
#[no_mangle]
pub unsafe extern "C" fn edge_model_n_embd(model: *const edge_model) -> i32 {
    // SAFETY: forwarded from the caller's contract.
    unsafe { size(model, Model::n_embd) }
}

/// The number of transformer layers, or -1 when `model` is NULL. Thread-safe.
///
/// # Safety
/// `model` is NULL or a live handle.
#[no_mangle]
pub unsafe extern "C" fn edge_model_n_layer(model: *const edge_model) -> i32 {
    // SAFETY: forwarded from the caller's contract.
    unsafe { size(model, Model::n_layer) }
}

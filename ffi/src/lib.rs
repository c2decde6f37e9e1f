//! edge-ffi: the C ABI of edge, built as `libedge.so` and `libedge.a`, declared in
//! `include/edge.h` (generated from this crate by cbindgen, committed; `tests/header.rs`
//! fails when it is stale).
//!
//! The API reads like llama.cpp's `llama.h`: opaque handles ([`edge_model`],
//! [`edge_context`]), `*_default_params()` functions, status codes ([`edge_status`]), a
//! thread-local last-error message ([`edge_last_error`]) and streaming callbacks.
//!
//! Every exported function
//! - checks its pointers and lengths (a NULL or out-of-range argument is
//!   `EDGE_ERR_INVALID_ARGUMENT`, never a crash),
//! - catches panics and turns them into `EDGE_ERR_INTERNAL`,
//! - clears the last-error message when it starts and sets it when it fails.
//!
//! Thread-safety: a model may be shared by any number of threads and contexts; a context
//! is used by one thread at a time (a second concurrent call, or a call on a context from
//! inside its own callback, is refused with `EDGE_ERR_INVALID_ARGUMENT`).
#![deny(unsafe_op_in_unsafe_fn)]
#![warn(missing_docs)]
// The exported names are the C names (`edge_model`, `edge_status`, `EDGE_OK`…).
#![allow(non_camel_case_types)]

// In the order the header declares them (cbindgen keeps source order; the blank lines
// stop rustfmt from sorting them).
mod status;

mod boundary;

mod model;

mod metadata;

mod tokens;

mod cache_type;

mod context;

mod generate;

mod chat;

use std::ffi::c_char;

pub use boundary::edge_last_error;
pub use cache_type::edge_cache_type;
pub use chat::edge_chat_apply_template;
pub use context::{
    edge_context, edge_context_default_params, edge_context_free, edge_context_n_ctx,
    edge_context_n_past, edge_context_new, edge_context_params, edge_context_reset, edge_decode,
    edge_get_logits,
};
pub use generate::{
    edge_context_stop_reason, edge_generate, edge_sampling_default_params, edge_sampling_params,
    edge_stop_reason, edge_token_callback, EDGE_DEFAULT_SEED,
};
pub use metadata::{
    edge_model_meta_count, edge_model_meta_key_by_index, edge_model_meta_str,
    edge_model_meta_val_str_by_index,
};
pub use model::{
    edge_model, edge_model_default_params, edge_model_free, edge_model_load,
    edge_model_n_ctx_train, edge_model_n_embd, edge_model_n_layer, edge_model_n_vocab,
    edge_model_params, edge_progress_callback,
};
pub use status::edge_status;
pub use tokens::{
    edge_detokenize, edge_token_bos, edge_token_eos, edge_token_is_eog, edge_token_to_piece,
    edge_tokenize,
};

/// The version of edge, e.g. `"0.1.0"`.
///
/// Returns a static NUL-terminated string owned by the library (never free it, never
/// NULL). Thread-safe.
#[no_mangle]
pub extern "C" fn edge_version() -> *const c_char {
    concat!(env!("CARGO_PKG_VERSION"), "\0").as_ptr().cast()
}

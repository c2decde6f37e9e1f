//! `edge_chat_apply_template`: a conversation → the prompt text the model was trained on.

use std::ffi::c_char;

use edge_runtime::chat::{ChatTemplate, Message};

use crate::boundary::{self, call, OutBuf};
use crate::model::{edge_model, model_ref};

/// Renders a conversation of `n_messages` messages (`roles[i]`, e.g. `"system"`, `"user"`,
/// `"assistant"`, says `contents[i]`; NUL-terminated UTF-8) with the model's chat template
/// (`tokenizer.chat_template`; ChatML when the model has none). With
/// `add_generation_prompt` the text ends with the opening of the assistant's turn, ready
/// for `edge_generate`.
///
/// Returns the length of the text in bytes, without the NUL. The text and a NUL are
/// written to `buf` when `buf_len` is larger than that; otherwise a truncated,
/// NUL-terminated copy is written (nothing when `buf_len` is 0; `buf` may then be NULL),
/// so that a first call can ask for the size. Returns -1 on error (NULL or non-UTF-8
/// arguments, negative counts, a template this engine cannot compile, or a template that
/// refuses the conversation; see `edge_last_error()`).
///
/// Ownership: the caller owns every array and `buf`. Thread-safe.
///
/// # Safety
/// `model` is NULL or a live handle; `roles` and `contents` are NULL or readable for
/// `n_messages` pointers, each NULL or NUL-terminated; `buf` is writable for `buf_len`
/// bytes.
#[no_mangle]
pub unsafe extern "C" fn edge_chat_apply_template(
    model: *const edge_model,
    roles: *const *const c_char,
    contents: *const *const c_char,
    n_messages: i32,
    add_generation_prompt: bool,
    buf: *mut c_char,
    buf_len: i32,
) -> i32 {
    call(-1, || {
        // SAFETY: forwarded from the caller's contract.
        let model = unsafe { model_ref(model) }?;
        // SAFETY: readable for `n_messages` pointers per the contract.
        let roles = unsafe { boundary::slice(roles, n_messages, "roles") }?;
        // SAFETY: readable for `n_messages` pointers per the contract.
        let contents = unsafe { boundary::slice(contents, n_messages, "contents") }?;
        let out = OutBuf::new(buf, buf_len, "buf")?;
        let mut messages = Vec::with_capacity(roles.len());
        for (i, (&role, &content)) in roles.iter().zip(contents).enumerate() {
            // SAFETY: each pointer is NULL or NUL-terminated per the contract.
            let role = unsafe { boundary::c_str(role, &format!("roles[{i}]")) }?;
            // SAFETY: as above.
            let content = unsafe { boundary::c_str(content, &format!("contents[{i}]")) }?;
            messages.push(Message::new(role, content));
        }
        let template = ChatTemplate::for_model(model.chat_template(), model.tokenizer())?;
        let text = template.render(&messages, add_generation_prompt)?;
        // SAFETY: `buf` is writable for `buf_len` bytes per the contract.
        unsafe { out.write_str(text.as_bytes()) }
    })
}

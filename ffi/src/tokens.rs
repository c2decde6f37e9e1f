//! Text to tokens and back with the model's tokenizer.

use std::ffi::c_char;

use edge_runtime::tokenizer::{DecodeOptions, Tokenizer};

use crate::boundary::{self, call, Failure, OutBuf};
use crate::model::{edge_model, model_ref};

/// The tokenizer of a model handle.
///
/// # Safety
/// `model` is NULL or a live handle.
unsafe fn tokenizer<'a>(model: *const edge_model) -> Result<&'a Tokenizer, Failure> {
    // SAFETY: forwarded from the caller's contract.
    Ok(unsafe { model_ref(model) }?.tokenizer())
}

/// A token id from C, checked against the vocabulary.
pub(crate) fn token_id(tok: &Tokenizer, token: i32) -> Result<u32, Failure> {
    u32::try_from(token)
        .ok()
        .filter(|&t| (t as usize) < tok.n_vocab())
        .ok_or_else(|| {
            Failure::invalid(format!(
                "token id {token} is out of range for a vocabulary of {}",
                tok.n_vocab()
            ))
        })
}

/// Token ids from C, checked against the vocabulary.
pub(crate) fn token_ids(tok: &Tokenizer, tokens: &[i32]) -> Result<Vec<u32>, Failure> {
    tokens.iter().map(|&t| token_id(tok, t)).collect()
}

/// Tokenizes `text_len` bytes of UTF-8 `text` (no NUL needed) into `tokens`.
///
/// - `add_special`: add BOS (and EOS) where the model asks for them.
/// - `parse_special`: special-token text such as `<|im_start|>` becomes that token; when
///   false it is tokenized as plain text.
///
/// Returns the number of tokens written; when `n_tokens_max` is too small, nothing is
/// written and the result is `-(number of tokens needed)` (so a first call with
/// `n_tokens_max` 0 and `tokens` NULL asks for the size). Returns `INT32_MIN` on error
/// (NULL `model`, NULL `text` with `text_len > 0`, negative lengths, `text` not UTF-8;
/// see `edge_last_error()`).
///
/// Ownership: the caller owns both buffers. Thread-safe.
///
/// # Safety
/// `model` is NULL or a live handle; `text` is readable for `text_len` bytes; `tokens` is
/// writable for `n_tokens_max` elements.
#[no_mangle]
pub unsafe extern "C" fn edge_tokenize(
    model: *const edge_model,
    text: *const c_char,
    text_len: i32,
    tokens: *mut i32,
    n_tokens_max: i32,
    add_special: bool,
    parse_special: bool,
) -> i32 {
    call(i32::MIN, || {
        // SAFETY: forwarded from the caller's contract.
        let tok = unsafe { tokenizer(model) }?;
        // SAFETY: readable for `text_len` bytes per the contract.
        let bytes = unsafe { boundary::slice(text.cast::<u8>(), text_len, "text") }?;
        let text = boundary::utf8(bytes, "text")?;
        let out = OutBuf::new(tokens, n_tokens_max, "tokens")?;
        let ids = tok.encode(text, add_special, parse_special);
        let n = i32::try_from(ids.len()).map_err(|_| {
            Failure::invalid(format!("the text makes {} tokens, too many", ids.len()))
        })?;
        if ids.len() > out.len() {
            return Ok(-n);
        }
        // Ids are below the vocabulary size, which the tokenizer caps at i32::MAX.
        let ids: Vec<i32> = ids.iter().map(|&t| t as i32).collect();
        // SAFETY: `ids.len() <= n_tokens_max` elements, writable per the contract.
        unsafe { out.write(&ids) };
        Ok(n)
    })
}

/// Copies the bytes of `token` into `buf` (special tokens as their text, e.g.
/// `<|im_end|>`). No NUL is added. A piece may be part of a UTF-8 character (byte
/// tokens): join the pieces of several tokens before reading them as text.
///
/// Returns the number of bytes written; when `buf_len` is too small, nothing is written
/// and the result is `-(number of bytes needed)`. Returns `INT32_MIN` on error (NULL
/// `model`, a token outside the vocabulary, negative `buf_len`, NULL `buf` with
/// `buf_len > 0`).
///
/// Ownership: the caller owns `buf`. Thread-safe.
///
/// # Safety
/// `model` is NULL or a live handle; `buf` is writable for `buf_len` bytes.
#[no_mangle]
pub unsafe extern "C" fn edge_token_to_piece(
    model: *const edge_model,
    token: i32,
    buf: *mut c_char,
    buf_len: i32,
) -> i32 {
    call(i32::MIN, || {
        // SAFETY: forwarded from the caller's contract.
        let tok = unsafe { tokenizer(model) }?;
        let id = token_id(tok, token)?;
        let out = OutBuf::new(buf, buf_len, "buf")?;
        // SAFETY: `buf` is writable for `buf_len` bytes per the contract.
        unsafe { out.write_bytes_or_needed(&tok.token_to_piece(id)) }
    })
}

/// Turns `n_tokens` tokens back into text, as llama.cpp's detokenizer does (the space a
/// SentencePiece model puts in front of the text is removed).
///
/// - `remove_special`: drop a leading BOS and trailing EOS where the model adds them.
/// - `unparse_special`: write control tokens as their text; when false they are dropped.
///
/// Returns the number of bytes written (no NUL is added; bytes of an unfinished UTF-8
/// character at the end are written as they are); when `buf_len` is too small, nothing is
/// written and the result is `-(number of bytes needed)`. Returns `INT32_MIN` on error
/// (NULL `model`, NULL `tokens` with `n_tokens > 0`, a token outside the vocabulary,
/// negative lengths).
///
/// Ownership: the caller owns both buffers. Thread-safe.
///
/// # Safety
/// `model` is NULL or a live handle; `tokens` is readable for `n_tokens` elements; `buf`
/// is writable for `buf_len` bytes.
#[no_mangle]
pub unsafe extern "C" fn edge_detokenize(
    model: *const edge_model,
    tokens: *const i32,
    n_tokens: i32,
    buf: *mut c_char,
    buf_len: i32,
    remove_special: bool,
    unparse_special: bool,
) -> i32 {
    call(i32::MIN, || {
        // SAFETY: forwarded from the caller's contract.
        let tok = unsafe { tokenizer(model) }?;
        // SAFETY: readable for `n_tokens` elements per the contract.
        let tokens = unsafe { boundary::slice(tokens, n_tokens, "tokens") }?;
        let ids = token_ids(tok, tokens)?;
        let out = OutBuf::new(buf, buf_len, "buf")?;
        let options = DecodeOptions {
            remove_special,
            render_special: unparse_special,
        };
        // SAFETY: `buf` is writable for `buf_len` bytes per the contract.
        unsafe { out.write_bytes_or_needed(&tok.decode_bytes(&ids, options)) }
    })
}

/// The beginning-of-sequence token, or -1 when the model has none or `model` is NULL.
/// Thread-safe.
///
/// # Safety
/// `model` is NULL or a live handle.
#[no_mangle]
pub unsafe extern "C" fn edge_token_bos(model: *const edge_model) -> i32 {
    call(-1, || {
        // SAFETY: forwarded from the caller's contract.
        let tok = unsafe { tokenizer(model) }?;
        Ok(tok.bos().map_or(-1, |t| t as i32))
    })
}

/// The end-of-sequence token, or -1 when the model has none or `model` is NULL.
/// Thread-safe.
///
/// # Safety
/// `model` is NULL or a live handle.
#[no_mangle]
pub unsafe extern "C" fn edge_token_eos(model: *const edge_model) -> i32 {
    call(-1, || {
        // SAFETY: forwarded from the caller's contract.
        let tok = unsafe { tokenizer(model) }?;
        Ok(tok.eos().map_or(-1, |t| t as i32))
    })
}

/// Whether `token` ends a generation (EOS, end of turn such as `<|im_end|>`); false for
/// other tokens, ids outside the vocabulary and a NULL `model`. Thread-safe.
///
/// # Safety
/// `model` is NULL or a live handle.
#[no_mangle]
pub unsafe extern "C" fn edge_token_is_eog(model: *const edge_model, token: i32) -> bool {
    call(false, || {
        // SAFETY: forwarded from the caller's contract.
        let tok = unsafe { tokenizer(model) }?;
        Ok(u32::try_from(token).is_ok_and(|t| tok.is_eog(t)))
    })
}

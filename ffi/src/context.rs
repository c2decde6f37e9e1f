//! [`edge_context`]: one sequence being evaluated (its KV cache, tokens and logits), and
//! the guard that keeps it to one call at a time.

use std::cell::UnsafeCell;
use std::sync::atomic::{AtomicU8, Ordering};
use std::sync::Arc;

use edge_runtime::llm::{LlmError, Model, Session, SessionParams};

use crate::boundary::{self, call, call_status, store, Failure};
use crate::cache_type::edge_cache_type;
use crate::generate::edge_stop_reason;
use crate::model::edge_model;
use crate::status::edge_status;
use crate::tokens::token_ids;

/// One sequence being evaluated by a model: its KV cache of `n_ctx` positions, the tokens
/// in it and the logits of the last one.
///
/// Opaque; create it with `edge_context_new`, release it with `edge_context_free`. A
/// context is used by one thread at a time (it may move between threads); a second call
/// while one is running — from another thread, or from inside the context's own token
/// callback — fails with `EDGE_ERR_INVALID_ARGUMENT` instead of corrupting it. Several
/// contexts of one model may run on different threads at the same time.
pub struct edge_context {
    /// [`IDLE`], [`BUSY`] or [`BUSY_FREE_REQUESTED`].
    use_state: AtomicU8,
    /// Only touched by the call that moved `use_state` from `IDLE` to `BUSY`.
    state: UnsafeCell<State>,
}

/// No call is using the context.
const IDLE: u8 = 0;
/// A call is using the context.
const BUSY: u8 = 1;
/// A call is using the context and `edge_context_free` was called meanwhile (from the
/// token callback): the call frees it when it ends.
const BUSY_FREE_REQUESTED: u8 = 2;

/// The mutable part of a context.
pub(crate) struct State {
    /// Borrows `*model`. Declared before `model`: fields are dropped in declaration order,
    /// so the session is gone before the model's reference count drops.
    pub(crate) session: Session<'static>,
    /// Every token in the context, evaluated or `pending`.
    pub(crate) tokens: Vec<u32>,
    /// A generated token given to the caller but not evaluated yet (the last one of a
    /// generation that stopped on `max_tokens` or the callback): evaluated first by the
    /// next call that needs it, so that a generation that ends costs no extra step.
    pub(crate) pending: Option<u32>,
    /// Whether `session.logits()` holds the logits of the last evaluated token.
    pub(crate) has_logits: bool,
    /// Why the last `edge_generate` ended.
    pub(crate) last_stop: edge_stop_reason,
    pub(crate) model: Arc<Model>,
}

impl State {
    /// Positions used: evaluated tokens and the pending one.
    pub(crate) fn n_past(&self) -> usize {
        self.session.n_past() + usize::from(self.pending.is_some())
    }

    /// Evaluates `tokens` after the pending token, if any. Fails with
    /// `EDGE_ERR_CONTEXT_FULL` or `EDGE_ERR_INVALID_ARGUMENT`, the context unchanged, when
    /// they do not fit or hold an id the model has no logit for; after an error inside the
    /// model the context is emptied (its state would be unknown).
    pub(crate) fn eval(&mut self, tokens: &[u32]) -> Result<(), Failure> {
        let batch: Vec<u32> = self.pending.iter().chain(tokens).copied().collect();
        if batch.is_empty() {
            return Ok(());
        }
        // The model may have fewer logits than its tokenizer has tokens.
        let n_vocab = self.model.n_vocab();
        if let Some(&id) = tokens.iter().find(|&&t| t as usize >= n_vocab) {
            return Err(Failure::invalid(format!(
                "token id {id} is out of range for a model of {n_vocab} logits"
            )));
        }
        let n_ctx = self.session.n_ctx();
        let needed = self.session.n_past() + batch.len();
        if needed > n_ctx {
            return Err(Failure::new(
                edge_status::EDGE_ERR_CONTEXT_FULL,
                format!(
                    "{} more tokens do not fit: the context holds {} of {n_ctx}; reset it or create a larger one",
                    tokens.len(),
                    self.n_past()
                ),
            ));
        }
        if let Err(e) = self.session.eval(&batch) {
            self.reset();
            return Err(Failure::from(e).context("the context was reset"));
        }
        self.tokens.extend_from_slice(tokens);
        self.pending = None;
        self.has_logits = true;
        Ok(())
    }

    /// Forgets every token.
    pub(crate) fn reset(&mut self) {
        self.session.reset();
        self.tokens.clear();
        self.pending = None;
        self.has_logits = false;
        self.last_stop = edge_stop_reason::EDGE_STOP_NONE;
    }
}

/// Gives back the context when a call ends, freeing it if that was asked meanwhile.
struct Release(*mut edge_context);

impl Drop for Release {
    fn drop(&mut self) {
        // SAFETY: the context is live: only this call may free it while it is BUSY.
        let use_state = unsafe { &(*self.0).use_state };
        if use_state
            .compare_exchange(BUSY, IDLE, Ordering::AcqRel, Ordering::Acquire)
            .is_err()
        {
            // BUSY_FREE_REQUESTED: `edge_context_free` left the freeing to this call, and
            // nothing else may touch the context any more.
            // SAFETY: a handle from `Box::into_raw`, freed exactly once, here.
            drop(unsafe { Box::from_raw(self.0) });
        }
    }
}

/// Runs `f` on the state of `ctx` if no other call is using it.
///
/// # Safety
/// `ctx` is NULL or a live handle from `edge_context_new`.
pub(crate) unsafe fn with_context<T>(
    ctx: *mut edge_context,
    f: impl FnOnce(&mut State, &dyn Fn() -> bool) -> Result<T, Failure>,
) -> Result<T, Failure> {
    // SAFETY: NULL or a live handle per the contract.
    let Some(c) = (unsafe { ctx.as_ref() }) else {
        return Err(Failure::null("ctx"));
    };
    if c.use_state
        .compare_exchange(IDLE, BUSY, Ordering::AcqRel, Ordering::Acquire)
        .is_err()
    {
        return Err(Failure::invalid(
            "the context is already in use by another call (a context is used by one thread at a time, and not from inside its own callback)",
        ));
    }
    let _release = Release(ctx);
    let free_requested = || c.use_state.load(Ordering::Acquire) == BUSY_FREE_REQUESTED;
    // SAFETY: this call moved the context from IDLE to BUSY, so no other reference to
    // the state exists until `_release` gives it back.
    let state = unsafe { &mut *c.state.get() };
    f(state, &free_requested)
}

/// How to create a context. Get the defaults from `edge_context_default_params()`.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct edge_context_params {
    /// Positions in the context (prompt and generated tokens together); `0` (default)
    /// takes the model's training context, at most 4096.
    pub n_ctx: i32,
    /// Reserved: the threads of a model are set when it is loaded
    /// (`edge_model_params.n_threads`) and shared by its contexts. Must be `>= 0`.
    pub n_threads: i32,
    /// The element type of the cached keys, an `edge_cache_type` (llama.cpp's
    /// `--cache-type-k`); default `EDGE_CACHE_F16`.
    pub type_k: i32,
    /// The element type of the cached values, an `edge_cache_type` (llama.cpp's
    /// `--cache-type-v`); default `EDGE_CACHE_F16`.
    pub type_v: i32,
}

/// The default context parameters: `n_ctx` 0 (the model's training context, at most
/// 4096), an f16 KV cache (`EDGE_CACHE_F16` keys and values). Thread-safe.
#[no_mangle]
pub extern "C" fn edge_context_default_params() -> edge_context_params {
    edge_context_params {
        n_ctx: 0,
        n_threads: 0,
        type_k: edge_cache_type::EDGE_CACHE_F16 as i32,
        type_v: edge_cache_type::EDGE_CACHE_F16 as i32,
    }
}

/// Creates a context for `model` and stores it in `*out` (NULL on failure). `params` may
/// be NULL for the defaults.
///
/// Returns `EDGE_OK`; `EDGE_ERR_INVALID_ARGUMENT` (NULL `model` or `out`, negative
/// parameters, a `type_k` or `type_v` that is not an `edge_cache_type`, a q8_0 cache for a
/// model whose attention head width is not a multiple of 32);
/// `EDGE_ERR_OUT_OF_MEMORY` (the KV cache does not fit).
///
/// Ownership: the caller owns the context and frees it with `edge_context_free`. The
/// context keeps the model's memory alive: `edge_model_free` may come before it.
/// Thread-safe with respect to `model` (several threads may create contexts of one
/// model at once).
///
/// # Safety
/// `model` is NULL or a live handle; `params` is NULL or points to an
/// `edge_context_params`; `out` is NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn edge_context_new(
    model: *mut edge_model,
    params: *const edge_context_params,
    out: *mut *mut edge_context,
) -> edge_status {
    // SAFETY: `out` is NULL or writable per the contract.
    unsafe { store(out, std::ptr::null_mut()) };
    call_status(|| {
        if out.is_null() {
            return Err(Failure::null("out"));
        }
        // SAFETY: NULL or a live handle per the contract.
        let model = unsafe { model.as_ref() }.ok_or_else(|| Failure::null("model"))?;
        // SAFETY: NULL or a valid `edge_context_params` per the contract.
        let params = unsafe { params.as_ref() }
            .copied()
            .unwrap_or_else(|| edge_context_default_params());
        let n_ctx = boundary::length(params.n_ctx, "n_ctx")?;
        boundary::length(params.n_threads, "n_threads")?;
        let type_k = edge_cache_type::from_c(params.type_k, "type_k")?.runtime();
        let type_v = edge_cache_type::from_c(params.type_v, "type_v")?.runtime();
        let n_ctx = match n_ctx {
            0 => model.model.n_ctx_train().clamp(1, 4096),
            n => n,
        };
        let session_params = SessionParams {
            n_ctx,
            type_k,
            type_v,
        };
        let arc = Arc::clone(&model.model);
        let session = arc
            .session_with(&session_params)
            .map_err(|e| session_failure(e, &session_params))?;
        // SAFETY: the session borrows the model inside `arc`, which is stored in the same
        // `State` after it: the model cannot move (it is behind the Arc) and cannot be
        // dropped before the session (field drop order; the Arc is never replaced), so
        // extending the borrow to 'static never lets it dangle. `Session::model()` is
        // never handed out.
        let session: Session<'static> =
            unsafe { std::mem::transmute::<Session<'_>, Session<'static>>(session) };
        let ctx = Box::new(edge_context {
            use_state: AtomicU8::new(IDLE),
            state: UnsafeCell::new(State {
                session,
                tokens: Vec::new(),
                pending: None,
                has_logits: false,
                last_stop: edge_stop_reason::EDGE_STOP_NONE,
                model: arc,
            }),
        });
        // SAFETY: `out` is non-NULL and writable.
        unsafe { out.write(Box::into_raw(ctx)) };
        Ok(())
    })
}

/// Why a session could not be made, naming the fields of `edge_context_params` at fault.
fn session_failure(e: LlmError, params: &SessionParams) -> Failure {
    let LlmError::UnsupportedCacheType { ty, why } = &e else {
        return e.into();
    };
    let fields = [("type_k", params.type_k), ("type_v", params.type_v)]
        .into_iter()
        .filter(|&(_, t)| t == *ty)
        .map(|(name, _)| name)
        .collect::<Vec<_>>()
        .join(" and ");
    let constant = edge_cache_type::from_runtime(*ty).map_or("?", edge_cache_type::name);
    Failure::invalid(format!(
        "{fields} = {constant}: a {ty} KV cache cannot be used with this model: {why}; use EDGE_CACHE_F16"
    ))
}

/// Releases a context (and the model, if its handle was freed and this was its last
/// context). NULL is a no-op.
///
/// May be called from inside the context's own token callback: generation then stops and
/// the context is freed when `edge_generate` returns. Do not use `ctx` again after this
/// call.
///
/// # Safety
/// `ctx` is NULL or a live handle from `edge_context_new`, not freed before.
#[no_mangle]
pub unsafe extern "C" fn edge_context_free(ctx: *mut edge_context) {
    call((), || {
        // SAFETY: NULL or a live handle per the contract.
        let Some(c) = (unsafe { ctx.as_ref() }) else {
            return Ok(());
        };
        match c
            .use_state
            .compare_exchange(IDLE, BUSY, Ordering::AcqRel, Ordering::Acquire)
        {
            // SAFETY: a handle from `Box::into_raw`, not in use, freed once.
            Ok(_) => drop(unsafe { Box::from_raw(ctx) }),
            Err(_) => {
                // In use: the call using it frees it when it ends.
                let _ = c.use_state.compare_exchange(
                    BUSY,
                    BUSY_FREE_REQUESTED,
                    Ordering::AcqRel,
                    Ordering::Acquire,
                );
            }
        }
        Ok(())
    })
}

/// Forgets every token of the context (its memory stays allocated for the next ones).
///
/// Returns `EDGE_OK`, or `EDGE_ERR_INVALID_ARGUMENT` for a NULL or busy context.
/// One thread at a time per context.
///
/// # Safety
/// `ctx` is NULL or a live handle.
#[no_mangle]
pub unsafe extern "C" fn edge_context_reset(ctx: *mut edge_context) -> edge_status {
    call_status(|| {
        // SAFETY: forwarded from the caller's contract.
        unsafe {
            with_context(ctx, |s, _| {
                s.reset();
                Ok(())
            })
        }
    })
}

/// Evaluates `n_tokens` tokens after those already in the context; their logits are then
/// read with `edge_get_logits`.
///
/// Returns `EDGE_OK`; `EDGE_ERR_CONTEXT_FULL` when they do not fit in what is left of
/// the context (nothing is evaluated and the context is unchanged);
/// `EDGE_ERR_INVALID_ARGUMENT` (NULL `ctx`, `n_tokens < 1`, NULL `tokens`, a token outside
/// the vocabulary, a busy context — the context unchanged).
///
/// Ownership: `tokens` stays the caller's; it is only read during the call. One thread
/// at a time per context.
///
/// # Safety
/// `ctx` is NULL or a live handle; `tokens` is readable for `n_tokens` elements.
#[no_mangle]
pub unsafe extern "C" fn edge_decode(
    ctx: *mut edge_context,
    tokens: *const i32,
    n_tokens: i32,
) -> edge_status {
    call_status(|| {
        // SAFETY: readable for `n_tokens` elements per the contract.
        let tokens = unsafe { boundary::slice(tokens, n_tokens, "tokens") }?;
        if tokens.is_empty() {
            return Err(Failure::invalid("no tokens to decode (n_tokens is 0)"));
        }
        // SAFETY: forwarded from the caller's contract.
        unsafe {
            with_context(ctx, |s, _| {
                let ids = token_ids(s.model.tokenizer(), tokens)?;
                s.eval(&ids)
            })
        }
    })
}

/// The logits of the last token evaluated in the context: `*n_vocab` (when `n_vocab` is
/// not NULL) receives their number.
///
/// Returns NULL (and `*n_vocab` = 0) before any token was evaluated, after
/// `edge_context_reset`, or on error (see `edge_last_error()`). After `edge_generate`
/// they are the logits following the last generated token.
///
/// Ownership: the array belongs to the context; it is valid until the next call that
/// changes the context (`edge_decode`, `edge_generate`, `edge_context_reset`,
/// `edge_context_free`). One thread at a time per context.
///
/// # Safety
/// `ctx` is NULL or a live handle; `n_vocab` is NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn edge_get_logits(ctx: *mut edge_context, n_vocab: *mut i32) -> *const f32 {
    // SAFETY: NULL or writable per the contract.
    unsafe { store(n_vocab, 0) };
    call(std::ptr::null(), || {
        // SAFETY: forwarded from the caller's contract.
        let logits = unsafe {
            with_context(ctx, |s, _| {
                s.eval(&[])?;
                if !s.has_logits {
                    return Err(Failure::invalid(
                        "no logits yet: no token has been evaluated in this context",
                    ));
                }
                let logits = s.session.logits();
                Ok((logits.as_ptr(), logits.len()))
            })
        }?;
        // SAFETY: NULL or writable per the contract.
        unsafe { store(n_vocab, i32::try_from(logits.1).unwrap_or(i32::MAX)) };
        Ok(logits.0)
    })
}

/// The number of positions of the context, or -1 when `ctx` is NULL or busy.
///
/// # Safety
/// `ctx` is NULL or a live handle.
#[no_mangle]
pub unsafe extern "C" fn edge_context_n_ctx(ctx: *mut edge_context) -> i32 {
    call(-1, || {
        // SAFETY: forwarded from the caller's contract.
        unsafe { with_context(ctx, |s, _| Ok(s.session.n_ctx())) }
            .map(|n| i32::try_from(n).unwrap_or(i32::MAX))
    })
}

/// The number of tokens in the context (prompt and generated tokens so far), or -1 when
/// `ctx` is NULL or busy.
///
/// # Safety
/// `ctx` is NULL or a live handle.
#[no_mangle]
pub unsafe extern "C" fn edge_context_n_past(ctx: *mut edge_context) -> i32 {
    call(-1, || {
        // SAFETY: forwarded from the caller's contract.
        unsafe { with_context(ctx, |s, _| Ok(s.n_past())) }
            .map(|n| i32::try_from(n).unwrap_or(i32::MAX))
    })
}

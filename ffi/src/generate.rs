//! `edge_generate`: tokenize a prompt, evaluate it after what the context holds, then
//! sample and stream tokens.

use std::ffi::{c_char, c_void};

use edge_runtime::sampling::{Rng, Sampler, SamplingParams};

use crate::boundary::{self, call, call_status, Failure};
use crate::context::{edge_context, with_context, State};
use crate::status::edge_status;

/// The `seed` that asks for a new random seed at each call.
pub const EDGE_DEFAULT_SEED: u64 = u64::MAX;

/// How to choose tokens. Get the defaults from `edge_sampling_default_params()`.
///
/// The filters apply in llama.cpp's order: penalties, top-k, top-p, min-p, temperature,
/// then a draw with a seeded generator.
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct edge_sampling_params {
    /// Temperature; `0` (or below) is greedy decoding: always the most likely token (the
    /// lowest id among equals). Default 0.8.
    pub temperature: f32,
    /// Keep the `top_k` most likely tokens; `0` keeps all. Default 40.
    pub top_k: i32,
    /// Keep the most likely tokens whose probabilities add up to `top_p`, in `(0, 1]`;
    /// `1` keeps all. Default 0.95.
    pub top_p: f32,
    /// Drop tokens less likely than `min_p` times the most likely one, in `[0, 1]`; `0`
    /// keeps all. Default 0.05.
    pub min_p: f32,
    /// Penalty for tokens among the last `repeat_last_n` (prompt included), `> 0`; `1`
    /// is off (default).
    pub repeat_penalty: f32,
    /// The same seed, model, context and parameters give the same tokens;
    /// `EDGE_DEFAULT_SEED` (default) takes a new random seed at each call.
    pub seed: u64,
    /// Most tokens to generate; a negative value goes on until an end-of-generation token
    /// or a full context. Default 256.
    pub max_tokens: i32,
    /// How many of the last tokens the penalties look at; `0` turns them off. Default 64.
    pub repeat_last_n: i32,
    /// Subtracted from a logit once per occurrence of its token in the window; `0` (default)
    /// is off.
    pub frequency_penalty: f32,
    /// Subtracted from a logit once if its token occurs in the window; `0` (default) is
    /// off.
    pub presence_penalty: f32,
}

/// The default sampling parameters (llama.cpp's): temperature 0.8, top-k 40, top-p 0.95,
/// min-p 0.05, no penalties, a random seed, at most 256 tokens. Thread-safe.
#[no_mangle]
pub extern "C" fn edge_sampling_default_params() -> edge_sampling_params {
    let d = SamplingParams::default();
    edge_sampling_params {
        temperature: d.temp,
        top_k: d.top_k as i32,
        top_p: d.top_p,
        min_p: d.min_p,
        repeat_penalty: d.repeat_penalty,
        seed: EDGE_DEFAULT_SEED,
        max_tokens: 256,
        repeat_last_n: d.repeat_last_n as i32,
        frequency_penalty: d.frequency_penalty,
        presence_penalty: d.presence_penalty,
    }
}

/// Receives each generated token as it is produced, on the thread that called
/// `edge_generate`: `piece` is the text this token completes, NUL-terminated, `piece_len`
/// bytes long (without the NUL) — whole UTF-8 characters only, so it is empty
/// (`piece_len` 0) when the token ends inside a character, whose bytes then come with a
/// later token. `token` is the token's id. When generation ends with bytes of an
/// unfinished character, a last call brings them as U+FFFD with `token` -1.
///
/// `piece` belongs to the library and is valid only during the call. Return `true` to go
/// on, `false` to stop (`edge_generate` then returns `EDGE_OK`).
pub type edge_token_callback = Option<
    unsafe extern "C" fn(
        piece: *const c_char,
        piece_len: i32,
        token: i32,
        user_data: *mut c_void,
    ) -> bool,
>;

/// Why the last `edge_generate` on a context ended.
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum edge_stop_reason {
    /// No generation yet, the last one failed, or the context was reset.
    EDGE_STOP_NONE = 0,
    /// The model produced an end-of-generation token (not given to the callback, not
    /// kept in the context).
    EDGE_STOP_EOG = 1,
    /// `max_tokens` tokens were generated.
    EDGE_STOP_MAX_TOKENS = 2,
    /// Every position of the context is used.
    EDGE_STOP_CONTEXT_FULL = 3,
    /// The token callback returned false (or freed the context).
    EDGE_STOP_CALLBACK = 4,
}

/// Generates text after `prompt` (NUL-terminated UTF-8) in `ctx`, streaming each token to
/// `on_token` (which may be NULL to generate without streaming).
///
/// The prompt is tokenized with special-token text parsed as special tokens
/// (`<|im_start|>`), and evaluated after what the context already holds, so successive
/// calls continue one conversation (`edge_context_reset` starts over). BOS is added where
/// the model asks for it only when the context is empty, and not twice when the prompt
/// already starts with it (chat templates often write it). An empty prompt continues
/// from the context's last token.
///
/// Generation stops at an end-of-generation token, after `max_tokens` tokens, when the
/// context is full, or when `on_token` returns false; `edge_context_stop_reason` says
/// which. Afterwards the context holds the prompt and every token given to `on_token`
/// (not an end-of-generation token).
///
/// Returns `EDGE_OK` in all those cases. Returns `EDGE_ERR_CONTEXT_FULL` when the prompt
/// itself does not fit in what is left of the context (nothing is evaluated, the context
/// is unchanged); `EDGE_ERR_INVALID_ARGUMENT` for a NULL `ctx` or `prompt`, a prompt
/// that is not UTF-8, parameters out of range, a busy context, or an empty prompt in an
/// empty context. `params` may be NULL for the defaults.
///
/// One thread at a time per context; the callback runs on the calling thread and must
/// not use `ctx` (except `edge_context_free`, which stops generation).
///
/// # Safety
/// `ctx` is NULL or a live handle; `prompt` is NULL or NUL-terminated; `params` is NULL
/// or points to an `edge_sampling_params`; `on_token`, if given, may be called with
/// `user_data`.
#[no_mangle]
pub unsafe extern "C" fn edge_generate(
    ctx: *mut edge_context,
    prompt: *const c_char,
    params: *const edge_sampling_params,
    on_token: edge_token_callback,
    user_data: *mut c_void,
) -> edge_status {
    call_status(|| {
        // SAFETY: NULL or NUL-terminated per the contract.
        let prompt = unsafe { boundary::c_str(prompt, "prompt") }?;
        // SAFETY: NULL or a valid `edge_sampling_params` per the contract.
        let params = unsafe { params.as_ref() }
            .copied()
            .unwrap_or_else(|| edge_sampling_default_params());
        let (sampling, max_tokens) = sampling_params(&params)?;
        let mut sampler = Sampler::new(sampling)?;
        let mut emit = |piece: &[u8], token: i32| -> bool {
            let Some(f) = on_token else {
                return true;
            };
            let mut text = Vec::with_capacity(piece.len() + 1);
            text.extend_from_slice(piece);
            text.push(0);
            let len = i32::try_from(piece.len()).unwrap_or(i32::MAX);
            // SAFETY: the caller gave this callback and its user data for this call; the
            // piece is NUL-terminated and outlives the call.
            unsafe { f(text.as_ptr().cast(), len, token, user_data) }
        };
        // SAFETY: forwarded from the caller's contract.
        unsafe {
            with_context(ctx, |state, free_requested| {
                state.last_stop = edge_stop_reason::EDGE_STOP_NONE;
                let stop = run(
                    state,
                    prompt,
                    &mut sampler,
                    max_tokens,
                    &mut emit,
                    free_requested,
                )?;
                state.last_stop = stop;
                Ok(())
            })
        }
    })
}

/// The runtime's sampling settings and the token budget for `p`.
fn sampling_params(p: &edge_sampling_params) -> Result<(SamplingParams, Option<usize>), Failure> {
    let top_k = boundary::length(p.top_k, "top_k")?;
    let repeat_last_n = boundary::length(p.repeat_last_n, "repeat_last_n")?;
    let seed = if p.seed == EDGE_DEFAULT_SEED {
        random_seed()
    } else {
        p.seed
    };
    let params = SamplingParams {
        temp: p.temperature,
        top_k,
        top_p: p.top_p,
        min_p: p.min_p,
        repeat_penalty: p.repeat_penalty,
        repeat_last_n,
        frequency_penalty: p.frequency_penalty,
        presence_penalty: p.presence_penalty,
        seed,
    };
    Ok((params, usize::try_from(p.max_tokens).ok()))
}

/// A seed that differs between calls: the clock and a counter, mixed.
fn random_seed() -> u64 {
    use std::sync::atomic::{AtomicU64, Ordering};
    static CALLS: AtomicU64 = AtomicU64::new(0);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos() as u64);
    let n = CALLS.fetch_add(1, Ordering::Relaxed);
    let seed = Rng::new(nanos ^ n.rotate_left(32) ^ u64::from(std::process::id())).next_u64();
    // Never the "random" marker itself.
    seed.min(EDGE_DEFAULT_SEED - 1)
}

/// The generation loop. Returns why it stopped.
fn run(
    state: &mut State,
    prompt: &str,
    sampler: &mut Sampler,
    max_tokens: Option<usize>,
    emit: &mut dyn FnMut(&[u8], i32) -> bool,
    free_requested: &dyn Fn() -> bool,
) -> Result<edge_stop_reason, Failure> {
    let model = std::sync::Arc::clone(&state.model);
    let tok = model.tokenizer();
    let empty = state.n_past() == 0;
    let mut prompt_ids = tok.encode(prompt, empty, true);
    if let (Some(bos), [a, b, ..]) = (tok.bos(), prompt_ids.as_slice()) {
        if *a == bos && *b == bos {
            prompt_ids.remove(0);
        }
    }
    if prompt_ids.is_empty() && state.pending.is_none() && !state.has_logits {
        return Err(Failure::invalid(
            "nothing to generate from: the prompt is empty and so is the context",
        ));
    }
    // The penalties look at the tokens before the new ones too.
    let window = sampler.params().repeat_last_n;
    let held = &state.tokens[state.tokens.len().saturating_sub(window)..];
    for &id in held.iter().chain(&prompt_ids) {
        sampler.accept(id);
    }
    state.eval(&prompt_ids)?;

    let mut decoder = tok.stream_decoder();
    let mut n_generated = 0usize;
    let stop = loop {
        if max_tokens.is_some_and(|n| n_generated >= n) {
            break edge_stop_reason::EDGE_STOP_MAX_TOKENS;
        }
        // The pending token from a previous call, if any, is evaluated first.
        state.eval(&[])?;
        if state.session.n_past() >= state.session.n_ctx() {
            break edge_stop_reason::EDGE_STOP_CONTEXT_FULL;
        }
        let id = sampler.sample(state.session.logits())?;
        if tok.is_eog(id) {
            break edge_stop_reason::EDGE_STOP_EOG;
        }
        sampler.accept(id);
        // It has a position in the context (checked above); evaluated when needed.
        state.tokens.push(id);
        state.pending = Some(id);
        n_generated += 1;
        let piece = decoder.push(id);
        if !emit(piece.as_bytes(), id as i32) || free_requested() {
            break edge_stop_reason::EDGE_STOP_CALLBACK;
        }
    };
    let rest = decoder.finish();
    if !rest.is_empty() && stop != edge_stop_reason::EDGE_STOP_CALLBACK {
        // The caller cannot stop what is over.
        let _ = emit(rest.as_bytes(), -1);
    }
    Ok(stop)
}

/// Why the last `edge_generate` on `ctx` ended; `EDGE_STOP_NONE` before any, after a
/// failed one, after `edge_context_reset`, or when `ctx` is NULL or busy.
///
/// # Safety
/// `ctx` is NULL or a live handle.
#[no_mangle]
pub unsafe extern "C" fn edge_context_stop_reason(ctx: *mut edge_context) -> edge_stop_reason {
    call(edge_stop_reason::EDGE_STOP_NONE, || {
        // SAFETY: forwarded from the caller's contract.
        unsafe { with_context(ctx, |s, _| Ok(s.last_stop)) }
    })
}

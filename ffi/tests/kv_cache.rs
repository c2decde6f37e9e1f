//! The KV cache types of `edge_context_params` (`type_k`, `type_v`) through the C ABI:
//!
//! - values that are not an `edge_cache_type` are `EDGE_ERR_INVALID_ARGUMENT` with a
//!   message naming the field, and so is q8_0 on a model whose head width is not a multiple
//!   of 32 (the tiny qwen2 model committed in `tests/golden/qwen`, heads of 16);
//! - a q8_0 context on SmolLM2 continues the prompts of `tests/golden/kv-cache` greedily
//!   as llama.cpp does with the same cache types (the goldens of
//!   `tests/tests/kv_cache_types.rs`, made by `tests/refgen/llamacpp_kv_refs.sh`), up to
//!   llama.cpp's first near-tie;
//! - its logits are those of the Rust API (`Model::session_with`) with the same types,
//!   and differ from an f16 context's (the fields reach the cache).
//!
//! The SmolLM2 tests skip when the model is not cached (and fail under `EDGE_CI=1`).

mod common;

use std::ffi::{c_char, c_void, CStr, CString};
use std::path::{Path, PathBuf};
use std::ptr::{null, null_mut};

use edge::*;
use edge_runtime::llm::{CacheType, Device, LoadParams, Model, SessionParams};
use serde_json::Value as Json;

const F16: i32 = edge_cache_type::EDGE_CACHE_F16 as i32;
const Q8_0: i32 = edge_cache_type::EDGE_CACHE_Q8_0 as i32;

fn last_error() -> String {
    // SAFETY: edge_last_error always returns a valid NUL-terminated string.
    unsafe { CStr::from_ptr(edge_last_error()) }
        .to_string_lossy()
        .into_owned()
}

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// A model loaded through the C ABI with 2 threads, freed on drop.
struct CModel(*mut edge_model);

impl CModel {
    fn load(path: &Path) -> CModel {
        let c = CString::new(path.as_os_str().as_encoded_bytes()).unwrap();
        let params = edge_model_params {
            n_threads: 2,
            ..edge_model_default_params()
        };
        let mut model = null_mut();
        // SAFETY: a valid string, params and out pointer.
        let st = unsafe { edge_model_load(c.as_ptr(), &params, &mut model) };
        assert_eq!(st, edge_status::EDGE_OK, "{}", last_error());
        CModel(model)
    }

    /// A context with these cache types, or the status and message of the failure (the
    /// out pointer checked to be NULL).
    fn context(
        &self,
        n_ctx: i32,
        type_k: i32,
        type_v: i32,
    ) -> Result<CContext, (edge_status, String)> {
        let params = edge_context_params {
            n_ctx,
            type_k,
            type_v,
            ..edge_context_default_params()
        };
        // Dangling: the call must overwrite it.
        let mut ctx = std::ptr::dangling_mut::<edge_context>();
        // SAFETY: a live model and valid pointers.
        let st = unsafe { edge_context_new(self.0, &params, &mut ctx) };
        if st == edge_status::EDGE_OK {
            assert!(!ctx.is_null());
            assert_eq!(last_error(), "");
            Ok(CContext(ctx))
        } else {
            assert!(ctx.is_null());
            Err((st, last_error()))
        }
    }

    fn tokenize(&self, text: &str) -> Vec<i32> {
        let mut tokens = vec![0i32; text.len() + 8];
        // SAFETY: a live model; `text` and `tokens` are valid for the lengths given.
        let n = unsafe {
            edge_tokenize(
                self.0,
                text.as_ptr().cast(),
                text.len() as i32,
                tokens.as_mut_ptr(),
                tokens.len() as i32,
                true,
                true,
            )
        };
        assert!(n >= 0, "{}", last_error());
        tokens.truncate(n as usize);
        tokens
    }
}

impl Drop for CModel {
    fn drop(&mut self) {
        // SAFETY: a live handle, freed once.
        unsafe { edge_model_free(self.0) };
    }
}

/// A context made through the C ABI, freed on drop.
struct CContext(*mut edge_context);

impl CContext {
    /// Evaluates `tokens` and returns the logits of the last one.
    fn decode(&self, tokens: &[i32]) -> Vec<f32> {
        // SAFETY: a live context; `tokens` and the returned array are valid as the
        // header says (the array until the next call on the context, copied here).
        unsafe {
            let st = edge_decode(self.0, tokens.as_ptr(), tokens.len() as i32);
            assert_eq!(st, edge_status::EDGE_OK, "{}", last_error());
            let mut n = 0;
            let p = edge_get_logits(self.0, &mut n);
            assert!(!p.is_null(), "{}", last_error());
            std::slice::from_raw_parts(p, n as usize).to_vec()
        }
    }

    /// Greedy generation (`edge_generate`, temperature 0) of `max_tokens` after `prompt`
    /// in an emptied context: the token ids given to the callback.
    fn greedy(&self, prompt: &str, max_tokens: i32) -> Vec<i32> {
        let prompt = CString::new(prompt).unwrap();
        let sp = edge_sampling_params {
            temperature: 0.0,
            max_tokens,
            ..edge_sampling_default_params()
        };
        let mut tokens: Vec<i32> = Vec::new();
        // SAFETY: a live context, valid strings and params; the callback gets `tokens`.
        unsafe {
            assert_eq!(edge_context_reset(self.0), edge_status::EDGE_OK);
            let st = edge_generate(
                self.0,
                prompt.as_ptr(),
                &sp,
                Some(push_token),
                (&mut tokens as *mut Vec<i32>).cast(),
            );
            assert_eq!(st, edge_status::EDGE_OK, "{}", last_error());
        }
        tokens
    }

    fn n_past(&self) -> i32 {
        // SAFETY: a live context.
        unsafe { edge_context_n_past(self.0) }
    }
}

impl Drop for CContext {
    fn drop(&mut self) {
        // SAFETY: a live handle, freed once.
        unsafe { edge_context_free(self.0) };
    }
}

unsafe extern "C" fn push_token(
    _piece: *const c_char,
    _len: i32,
    token: i32,
    user_data: *mut c_void,
) -> bool {
    // SAFETY: the tests pass a `Vec<i32>` as user data.
    let tokens = unsafe { &mut *user_data.cast::<Vec<i32>>() };
    tokens.push(token);
    true
}

fn argmax(logits: &[f32]) -> i32 {
    let mut best = 0;
    for (i, &v) in logits.iter().enumerate() {
        if v > logits[best] {
            best = i;
        }
    }
    best as i32
}

#[test]
fn defaults_are_f16() {
    let d = edge_context_default_params();
    assert_eq!((d.type_k, d.type_v), (F16, F16));
    assert_eq!((F16, Q8_0), (0, 1), "the values are part of the ABI");
}

#[test]
fn values_that_are_not_cache_types_are_invalid_arguments() {
    // The tiny qwen2 model is committed: this test never skips.
    let model = CModel::load(&repo().join("tests/golden/qwen/qwen2-tiny.f32.gguf"));
    for bad in [-1, 2, 7, i32::MIN, i32::MAX] {
        for (type_k, type_v, field) in [(bad, F16, "type_k"), (F16, bad, "type_v")] {
            let Err((st, msg)) = model.context(16, type_k, type_v) else {
                panic!("{field} = {bad} was accepted");
            };
            assert_eq!(st, edge_status::EDGE_ERR_INVALID_ARGUMENT, "{msg}");
            assert!(
                msg.starts_with(&format!("{field} = {bad} is not an edge_cache_type")),
                "{msg}"
            );
        }
    }
    // NULL params are the defaults (f16), which this model can use.
    let mut ctx = null_mut();
    // SAFETY: a live model and a valid out pointer; NULL params are allowed.
    assert_eq!(
        unsafe { edge_context_new(model.0, null(), &mut ctx) },
        edge_status::EDGE_OK
    );
    drop(CContext(ctx));
}

#[test]
fn q8_0_needs_heads_of_a_multiple_of_32() {
    let model = CModel::load(&repo().join("tests/golden/qwen/qwen2-tiny.f32.gguf"));
    // SAFETY: a live model.
    let (n_embd, n_vocab) = unsafe { (edge_model_n_embd(model.0), edge_model_n_vocab(model.0)) };
    assert_eq!((n_embd, n_vocab), (64, 512), "4 heads of 16");
    for (type_k, type_v, fields) in [
        (Q8_0, F16, "type_k"),
        (F16, Q8_0, "type_v"),
        (Q8_0, Q8_0, "type_k and type_v"),
    ] {
        let Err((st, msg)) = model.context(16, type_k, type_v) else {
            panic!("q8_0 with heads of 16 was accepted ({fields})");
        };
        assert_eq!(st, edge_status::EDGE_ERR_INVALID_ARGUMENT, "{msg}");
        assert!(
            msg.starts_with(&format!("{fields} = EDGE_CACHE_Q8_0: ")),
            "{msg}"
        );
        assert!(msg.contains("head width 16"), "{msg}");
        assert!(msg.ends_with("use EDGE_CACHE_F16"), "{msg}");
    }
    // The f16 cache works on it.
    let ctx = model.context(16, F16, F16).unwrap();
    assert_eq!(ctx.decode(&[1, 2, 3]).len(), 512);
}

/// The greedy continuations of `tests/golden/kv-cache/<name>.json` (llama.cpp with the
/// cache types it names) through `edge_generate` on a context with those types.
fn greedy_matches_llama_cpp(name: &str) {
    let Some(path) = common::smollm2_path() else {
        return;
    };
    let file = repo().join(format!("tests/golden/kv-cache/{name}.json"));
    let text = std::fs::read_to_string(&file).unwrap_or_else(|e| panic!("{name}: {e}"));
    let golden: Json = serde_json::from_str(&text).unwrap();
    let c_type = |key: &str| match golden[key].as_str() {
        Some("f16") => F16,
        Some("q8_0") => Q8_0,
        other => panic!("{name}: {key} = {other:?}"),
    };
    let ids = |v: &Json| -> Vec<i32> {
        v.as_array()
            .unwrap()
            .iter()
            .map(|x| x.as_i64().unwrap() as i32)
            .collect()
    };
    let model = CModel::load(&path);
    // llama.cpp's context was 512 positions.
    let ctx = model
        .context(512, c_type("cache_type_k"), c_type("cache_type_v"))
        .unwrap();
    let mut failures = Vec::new();
    let mut steps_checked = Vec::new();
    for p in golden["prompts"].as_array().unwrap() {
        let prompt = p["text"].as_str().unwrap();
        let tokens = ids(&p["tokens"]);
        assert_eq!(model.tokenize(prompt), tokens, "{name} {}: prompt", p["id"]);
        // 16 tokens, or up to llama.cpp's first step whose two best logits are closer
        // than 0.5 (a near-tie that rounding may break either way).
        let expected = ids(&p["greedy"]);
        let steps = p["greedy_margin"]
            .as_array()
            .unwrap()
            .iter()
            .take(expected.len().min(16))
            .take_while(|m| m.as_f64().unwrap() >= 0.5)
            .count();
        let ours = ctx.greedy(prompt, steps as i32);
        assert_eq!(ctx.n_past() as usize, tokens.len() + ours.len());
        if ours != expected[..steps] {
            failures.push(format!(
                "{}: {ours:?}, llama.cpp {:?}",
                p["id"],
                &expected[..steps]
            ));
        }
        steps_checked.push(steps);
    }
    eprintln!("{name}: greedy equal to llama.cpp's for {steps_checked:?} steps");
    assert!(failures.is_empty(), "{name}: {}", failures.join("; "));
}

#[test]
fn q8_0_keys_and_values_continue_as_llama_cpp() {
    greedy_matches_llama_cpp("smollm2-k_q8_0-v_q8_0");
}

#[test]
fn q8_0_keys_f16_values_continue_as_llama_cpp() {
    greedy_matches_llama_cpp("smollm2-k_q8_0-v_f16");
}

#[test]
fn logits_are_the_rust_apis_and_depend_on_the_types() {
    let Some(path) = common::smollm2_path() else {
        return;
    };
    let c_model = CModel::load(&path);
    let rust_model = Model::load(
        &path,
        &LoadParams {
            threads: 2,
            device: Device::Cpu,
            mmap: true,
        },
    )
    .unwrap();
    let prompt = c_model.tokenize("The capital of France is");
    let steps = 8;
    let n_ctx = prompt.len() + steps;

    // Per cache-type pair: the logits of the prompt and of each greedy step.
    let mut runs = Vec::new();
    for (type_k, type_v) in [(F16, F16), (Q8_0, F16), (Q8_0, Q8_0)] {
        let ctx = c_model.context(n_ctx as i32, type_k, type_v).unwrap();
        let rt = |t| {
            if t == Q8_0 {
                CacheType::Q8_0
            } else {
                CacheType::F16
            }
        };
        let mut session = rust_model
            .session_with(&SessionParams {
                n_ctx,
                type_k: rt(type_k),
                type_v: rt(type_v),
            })
            .unwrap();
        let mut input = prompt.clone();
        let mut all = Vec::new();
        for _ in 0..steps {
            let ours = ctx.decode(&input);
            let ids: Vec<u32> = input.iter().map(|&t| t as u32).collect();
            let rust = session.eval(&ids).unwrap();
            assert!(
                ours == rust,
                "k {type_k} v {type_v}: the C ABI's logits differ from the Rust API's"
            );
            input = vec![argmax(&ours)];
            all.push(ours);
        }
        runs.push(all);
    }
    // Each field reaches the cache: the logits change with each type.
    assert_ne!(runs[0][0], runs[1][0], "type_k q8_0 changed nothing");
    assert_ne!(runs[1][0], runs[2][0], "type_v q8_0 changed nothing");
}

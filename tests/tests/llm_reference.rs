//! The LLM forward pass against independent references, on SmolLM2-135M-Instruct Q4_1
//! (`llama`) and gemma-3-270m Q4_K_M (`gemma3`): llama.cpp
//! (`shared/reference/llama.cpp/{model}.json`, libllama on the same GGUF, f16 KV cache) and
//! Hugging Face transformers in float32 on the same weights dequantized
//! (`shared/reference/transformers-f32/{model}.json`).
//!
//! - perplexity of the first 512 tokens of a real text, in one window, within 1% of
//!   llama.cpp's;
//! - top-1 token at every prompt position equal to llama.cpp's and to transformers' on at
//!   least 90% of positions;
//! - mean |ΔNLL| of the next prompt token against transformers-f32 at most 0.1;
//! - greedy continuations equal to llama.cpp's for 16 tokens, or up to the first near-tie
//!   (`greedy_margin` < 0.5), where a correct runtime may go the other way.
//!
//! The token ids come from the reference, so these tests isolate the model from the
//! tokenizer; our tokenizer is checked to give the same ids as well.
//!
//! Then hostile input: small hand-made GGUF files with a missing hyperparameter, a wrong
//! tensor shape or an unknown architecture must fail to load with the right error, and a
//! full context must be an error, never a panic. A tiny gemma3 file checks the sliding
//! window mask, and tiny files of every architecture (llama, qwen2, qwen3, gemma3) check
//! that a prompt evaluated in batches gives the logits it gives token by token.
//!
//! Skipped (with a message) when the model or the reference directory is absent, unless
//! `EDGE_CI=1`, where that is a failure.

use std::path::{Path, PathBuf};

use edge_formats::{Array, GgmlType, GgufFileWriter, TensorSpec, Value};
use edge_runtime::llm::{LlmError, LoadParams, Model};
use edge_tests::reference::{argmax, f64s, greedy_steps, ids, mean_abs_diff, nll, read_json};
use serde_json::Value as Json;

// ---------------------------------------------------------------------------------------
// Reference data.

/// `shared/reference`, beside the repository; `None` (after a message) when absent.
fn reference_dir() -> Option<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/reference");
    if dir.is_dir() {
        return Some(dir);
    }
    assert!(
        !edge_tests::strict(),
        "reference directory {} missing (EDGE_CI=1)",
        dir.display()
    );
    eprintln!("skipping: reference directory {} not found", dir.display());
    None
}

/// Test model `key` (`smollm2`, `gemma3`) and its llama.cpp and transformers-f32
/// references.
fn load(key: &str) -> Option<(Model, Json, Json)> {
    let path = edge_tests::model(key)?;
    let reference = reference_dir()?;
    let model = Model::load(&path, &LoadParams::default())
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let lcpp = read_json(&reference.join(format!("llama.cpp/{key}.json")));
    let f32ref = read_json(&reference.join(format!("transformers-f32/{key}.json")));
    Some((model, lcpp, f32ref))
}

// ---------------------------------------------------------------------------------------
// The test models against the references.

#[test]
fn smollm2_perplexity_matches_llama_cpp() {
    perplexity_matches_llama_cpp("smollm2");
}

#[test]
fn gemma3_perplexity_matches_llama_cpp() {
    perplexity_matches_llama_cpp("gemma3");
}

#[test]
fn smollm2_prompt_logits_match_references() {
    prompt_logits_match_references("smollm2");
}

#[test]
fn gemma3_prompt_logits_match_references() {
    prompt_logits_match_references("gemma3");
}

#[test]
fn smollm2_greedy_matches_llama_cpp() {
    greedy_matches_llama_cpp("smollm2");
}

#[test]
fn gemma3_greedy_matches_llama_cpp() {
    greedy_matches_llama_cpp("gemma3");
}

fn perplexity_matches_llama_cpp(key: &str) {
    let Some((model, lcpp, f32ref)) = load(key) else {
        return;
    };
    let reference = &lcpp["perplexity"][0];
    let tokens = ids(&reference["tokens"]);
    assert_eq!(tokens.len(), 512);
    let n_vocab = model.n_vocab();

    let mut session = model.session(tokens.len()).unwrap();
    let logits = session.eval_all(&tokens).unwrap();
    assert_eq!(logits.len(), tokens.len() * n_vocab);
    let nlls: Vec<f64> = (0..tokens.len() - 1)
        .map(|i| nll(&logits[i * n_vocab..(i + 1) * n_vocab], tokens[i + 1]))
        .collect();
    let ppl = (nlls.iter().sum::<f64>() / nlls.len() as f64).exp();

    let ppl_lcpp = reference["perplexity"].as_f64().unwrap();
    let f32_ppl = &f32ref["perplexity"][0];
    // Same tokens as llama.cpp's (the f32 file records only their count).
    assert_eq!(f32_ppl["n_tokens"].as_u64(), Some(tokens.len() as u64));
    let ppl_f32 = f32_ppl["perplexity"].as_f64().unwrap();
    let d_f32 = mean_abs_diff(&nlls, &f64s(&f32_ppl["next_nll"]));
    let d_lcpp = mean_abs_diff(&nlls, &f64s(&reference["next_nll"]));
    eprintln!(
        "{key} perplexity (512 tokens, one window): ours {ppl:.4}, llama.cpp {ppl_lcpp:.4} \
         ({:+.3}%), transformers-f32 {ppl_f32:.4}; mean |dNLL| vs llama.cpp {d_lcpp:.4}, \
         vs f32 {d_f32:.4}",
        (ppl / ppl_lcpp - 1.0) * 100.0
    );
    assert!(
        (ppl / ppl_lcpp - 1.0).abs() <= 0.01,
        "perplexity {ppl} vs llama.cpp {ppl_lcpp}"
    );
    assert!(
        d_f32 <= 0.1,
        "mean |dNLL| against transformers-f32 on the text: {d_f32}"
    );
}

fn prompt_logits_match_references(key: &str) {
    let Some((model, lcpp, f32ref)) = load(key) else {
        return;
    };
    let n_vocab = model.n_vocab();
    let (mut n, mut agree_lcpp, mut agree_f32) = (0usize, 0usize, 0usize);
    let (mut dnll_sum, mut n_nll) = (0.0f64, 0usize);
    let f32_prompts = f32ref["prompts"].as_array().unwrap();
    for (p, fp) in lcpp["prompts"].as_array().unwrap().iter().zip(f32_prompts) {
        let text = p["text"].as_str().unwrap();
        let tokens = ids(&p["tokens"]);
        assert_eq!(
            ids(&fp["tokens"]),
            tokens,
            "transformers tokens of {text:?}"
        );
        assert_eq!(
            model.tokenizer().encode(text, true, true),
            tokens,
            "our tokens of {text:?}"
        );

        let mut session = model.session(tokens.len()).unwrap();
        let logits = session.eval_all(&tokens).unwrap();
        let positions = p["positions"].as_array().unwrap();
        let f32_positions = fp["positions"].as_array().unwrap();
        assert_eq!(positions.len(), tokens.len());
        for (i, (pos, fpos)) in positions.iter().zip(f32_positions).enumerate() {
            let row = &logits[i * n_vocab..(i + 1) * n_vocab];
            let top = argmax(row);
            n += 1;
            agree_lcpp += usize::from(u64::from(top) == pos["top"][0][0].as_u64().unwrap());
            agree_f32 += usize::from(u64::from(top) == fpos["top"][0][0].as_u64().unwrap());
            if let (Some(next), Some(ref_nll)) = (fpos["next"].as_u64(), fpos["next_nll"].as_f64())
            {
                dnll_sum += (nll(row, next as u32) - ref_nll).abs();
                n_nll += 1;
            }
        }
    }
    let mean_dnll = dnll_sum / n_nll as f64;
    eprintln!(
        "{key} prompts: top-1 agreement with llama.cpp {agree_lcpp}/{n}, with \
         transformers-f32 {agree_f32}/{n}; mean |dNLL| vs f32 {mean_dnll:.4} over {n_nll}"
    );
    assert!(
        agree_lcpp * 10 >= n * 9,
        "top-1 vs llama.cpp: {agree_lcpp}/{n}"
    );
    assert!(
        agree_f32 * 10 >= n * 9,
        "top-1 vs transformers-f32: {agree_f32}/{n}"
    );
    assert!(
        mean_dnll <= 0.1,
        "mean |dNLL| vs transformers-f32: {mean_dnll}"
    );
}

fn greedy_matches_llama_cpp(key: &str) {
    let Some((model, lcpp, _)) = load(key) else {
        return;
    };
    let mut report = Vec::new();
    for p in lcpp["prompts"].as_array().unwrap() {
        let tokens = ids(&p["tokens"]);
        let greedy = ids(&p["greedy"]);
        let steps = greedy_steps(p);
        let mut session = model.session(tokens.len() + steps + 1).unwrap();
        let mut logits = session.eval(&tokens).unwrap();
        let mut ours = Vec::new();
        for &expected in &greedy[..steps] {
            let next = argmax(logits);
            ours.push(next);
            if next != expected {
                break;
            }
            logits = session.eval(&[next]).unwrap();
        }
        assert_eq!(
            ours,
            greedy[..steps],
            "greedy continuation of {:?}",
            p["text"]
        );
        report.push(steps);
    }
    eprintln!("{key} greedy: equal to llama.cpp for {report:?} steps (≤ 16, up to the first margin < 0.5)");
}

#[test]
fn smollm2_session_bookkeeping() {
    let Some((model, _, _)) = load("smollm2") else {
        return;
    };
    assert_eq!(model.architecture(), "llama");
    assert_eq!(model.n_vocab(), 49152);
    assert_eq!(model.n_ctx_train(), 8192);
    assert!(model
        .chat_template()
        .is_some_and(|t| t.contains("im_start")));

    let tokens = model
        .tokenizer()
        .encode("The capital of France is", true, true);
    let mut session = model.session(tokens.len() + 1).unwrap();
    let first = session.eval(&tokens).unwrap().to_vec();
    assert_eq!(session.n_past(), tokens.len());
    // Evaluating token by token gives the same logits as all at once, up to the rounding
    // of the batched kernels (see `assert_batch_close`).
    session.reset();
    for &t in &tokens {
        session.eval(&[t]).unwrap();
    }
    assert_batch_close(
        session.logits(),
        &first,
        "smollm2 token by token vs at once",
    );
    // Context full: the session is left unchanged.
    assert!(
        matches!(session.eval(&[1, 2]), Err(LlmError::ContextFull { n_ctx }) if n_ctx == tokens.len() + 1)
    );
    assert_eq!(session.n_past(), tokens.len());
    assert!(matches!(
        session.eval(&[49152]),
        Err(LlmError::TokenOutOfRange {
            id: 49152,
            n_vocab: 49152
        })
    ));
    assert!(matches!(session.eval(&[]), Err(LlmError::EmptyInput)));
    session.eval(&[28]).unwrap();
    assert!(matches!(
        session.eval(&[28]),
        Err(LlmError::ContextFull { .. })
    ));
}

#[test]
fn gemma3_model_facts() {
    let Some((model, _, _)) = load("gemma3") else {
        return;
    };
    assert_eq!(model.architecture(), "gemma3");
    assert_eq!(model.n_vocab(), 262144);
    assert_eq!(model.n_ctx_train(), 32768);
    assert_eq!((model.n_embd(), model.n_layer()), (640, 18));
    // Token by token equals all at once (the sliding-window layers included).
    let tokens = model
        .tokenizer()
        .encode("The capital of France is", true, true);
    let mut session = model.session(tokens.len()).unwrap();
    let first = session.eval(&tokens).unwrap().to_vec();
    session.reset();
    for &t in &tokens {
        session.eval(&[t]).unwrap();
    }
    assert_batch_close(session.logits(), &first, "gemma3 token by token vs at once");
}

// ---------------------------------------------------------------------------------------
// Hostile input: tiny hand-made models.

const EMBD: usize = 32;
const FF: usize = 64;
const HEADS: u32 = 2;
const KV_HEADS: u32 = 1;

/// A tiny SentencePiece vocabulary (with byte fallback), enough for a tokenizer to build.
fn tokenizer_meta() -> Vec<(String, Value)> {
    let mut tokens: Vec<String> = ["<unk>", "<s>", "</s>", "▁", "a"]
        .map(String::from)
        .to_vec();
    let mut types = vec![2i32, 3, 3, 1, 1];
    let mut scores = vec![0.0f32, 0.0, 0.0, -1.0, -2.0];
    for b in 0..=255u8 {
        tokens.push(format!("<0x{b:02X}>"));
        types.push(6);
        scores.push(0.0);
    }
    vec![
        ("tokenizer.ggml.model".into(), Value::from("llama")),
        (
            "tokenizer.ggml.tokens".into(),
            Value::Array(Array::from(tokens)),
        ),
        (
            "tokenizer.ggml.scores".into(),
            Value::Array(Array::from(scores)),
        ),
        (
            "tokenizer.ggml.token_type".into(),
            Value::Array(Array::from(types)),
        ),
        ("tokenizer.ggml.bos_token_id".into(), Value::U32(1)),
        ("tokenizer.ggml.eos_token_id".into(), Value::U32(2)),
        ("tokenizer.ggml.unknown_token_id".into(), Value::U32(0)),
    ]
}

const VOCAB: usize = 5 + 256;

/// Metadata of a one-layer llama model.
fn tiny_meta() -> Vec<(String, Value)> {
    let mut meta = vec![
        ("general.architecture".into(), Value::from("llama")),
        ("llama.context_length".into(), Value::U32(64)),
        ("llama.embedding_length".into(), Value::U32(EMBD as u32)),
        ("llama.block_count".into(), Value::U32(1)),
        ("llama.feed_forward_length".into(), Value::U32(FF as u32)),
        ("llama.attention.head_count".into(), Value::U32(HEADS)),
        ("llama.attention.head_count_kv".into(), Value::U32(KV_HEADS)),
        (
            "llama.attention.layer_norm_rms_epsilon".into(),
            Value::F32(1e-5),
        ),
    ];
    meta.extend(tokenizer_meta());
    meta
}

/// Tensors of a one-layer llama model: `(name, dims)`, all Q8_0 except the F32 norms.
fn tiny_tensors() -> Vec<(String, Vec<u64>)> {
    let (e, f, v) = (EMBD as u64, FF as u64, VOCAB as u64);
    let kv = e / u64::from(HEADS) * u64::from(KV_HEADS);
    let mut t: Vec<(String, Vec<u64>)> = vec![
        ("token_embd.weight".into(), vec![e, v]),
        ("output_norm.weight".into(), vec![e]),
        ("output.weight".into(), vec![e, v]),
    ];
    for (name, dims) in [
        ("attn_norm", vec![e]),
        ("attn_q", vec![e, e]),
        ("attn_k", vec![e, kv]),
        ("attn_v", vec![e, kv]),
        ("attn_output", vec![e, e]),
        ("ffn_norm", vec![e]),
        ("ffn_gate", vec![e, f]),
        ("ffn_up", vec![e, f]),
        ("ffn_down", vec![f, e]),
    ] {
        t.push((format!("blk.0.{name}.weight"), dims));
    }
    t
}

/// Writes a model file with `meta` and `tensors` (norms F32 ones, matrices Q8_0 with a
/// small pattern) and tries to load it.
fn load_tiny(meta: &[(String, Value)], tensors: &[(String, Vec<u64>)]) -> Result<Model, LlmError> {
    load_tiny_typed(meta, tensors, |_| None)
}

/// As [`load_tiny`], with `ty_of(name)` overriding the type of some tensors (their data is
/// then zeros).
fn load_tiny_typed(
    meta: &[(String, Value)],
    tensors: &[(String, Vec<u64>)],
    ty_of: impl Fn(&str) -> Option<GgmlType>,
) -> Result<Model, LlmError> {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("tiny.gguf");
    let specs: Vec<TensorSpec> = tensors
        .iter()
        .map(|(name, dims)| {
            let default = if dims.len() == 1 {
                GgmlType::F32
            } else {
                GgmlType::Q8_0
            };
            let ty = ty_of(name).unwrap_or(default);
            TensorSpec::new(name.clone(), dims.clone(), ty)
        })
        .collect();
    let mut w = GgufFileWriter::new(&path, meta, &specs).unwrap();
    for spec in &specs {
        let n: u64 = spec.dims.iter().product();
        let values: Vec<f32> = (0..n)
            .map(|i| {
                if spec.dims.len() == 1 {
                    1.0
                } else {
                    ((i * 7 % 13) as f32 - 6.0) / 16.0
                }
            })
            .collect();
        let mut bytes = vec![0u8; spec.ggml_type.bytes_for(n).unwrap() as usize];
        if ty_of(&spec.name).is_none() {
            edge_quant::quantize(spec.ggml_type, &values, &mut bytes).unwrap();
        }
        w.write_tensor(&spec.name, &bytes).unwrap();
    }
    w.commit().unwrap();
    Model::load(
        &path,
        &LoadParams {
            threads: 1,
            ..Default::default()
        },
    )
}

fn set(meta: &mut [(String, Value)], key: &str, value: Value) {
    meta.iter_mut().find(|(k, _)| k == key).unwrap().1 = value;
}

#[test]
fn tiny_model_loads_and_runs() {
    let model = load_tiny(&tiny_meta(), &tiny_tensors()).unwrap();
    assert_eq!((model.n_vocab(), model.n_ctx_train()), (VOCAB, 64));
    let mut session = model.session(4).unwrap();
    let logits = session.eval(&[1, 4, 3]).unwrap();
    assert_eq!(logits.len(), VOCAB);
    assert!(logits.iter().all(|v| v.is_finite()));
    assert!(session
        .eval(&[4, 4])
        .is_err_and(|e| matches!(e, LlmError::ContextFull { n_ctx: 4 })));
    session.eval(&[4]).unwrap();
    assert!(matches!(
        session.eval(&[4]),
        Err(LlmError::ContextFull { n_ctx: 4 })
    ));
    assert!(matches!(
        model.session(0),
        Err(LlmError::BadContextSize { n_ctx: 0, .. })
    ));
}

#[test]
fn missing_hyperparameter_is_named() {
    let meta: Vec<_> = tiny_meta()
        .into_iter()
        .filter(|(k, _)| k != "llama.block_count")
        .collect();
    let err = load_tiny(&meta, &tiny_tensors()).unwrap_err();
    assert!(
        matches!(&err, LlmError::MissingHyperparameter { key } if key == "llama.block_count"),
        "{err}"
    );
    assert!(err.to_string().contains("llama.block_count"));
}

#[test]
fn contradictory_hyperparameters_are_rejected() {
    let cases: [(&str, Value, &str); 5] = [
        // 3 heads do not divide 32.
        (
            "llama.attention.head_count",
            Value::U32(3),
            "llama.attention.head_count",
        ),
        // 2 heads cannot share among 3 KV heads.
        (
            "llama.attention.head_count_kv",
            Value::U32(3),
            "llama.attention.head_count_kv",
        ),
        ("llama.block_count", Value::U32(0), "llama.block_count"),
        (
            "llama.embedding_length",
            Value::from("wide"),
            "llama.embedding_length",
        ),
        (
            "llama.attention.layer_norm_rms_epsilon",
            Value::from("tiny"),
            "llama.attention.layer_norm_rms_epsilon",
        ),
    ];
    for (key, value, named) in cases {
        let mut meta = tiny_meta();
        set(&mut meta, key, value);
        let err = load_tiny(&meta, &tiny_tensors()).unwrap_err();
        assert!(
            matches!(&err, LlmError::BadHyperparameter { key, .. } if key == named),
            "{key}: {err}"
        );
    }
}

#[test]
fn wrong_tensor_shape_is_named() {
    let mut tensors = tiny_tensors();
    let ffn_up = tensors
        .iter_mut()
        .find(|(n, _)| n == "blk.0.ffn_up.weight")
        .unwrap();
    ffn_up.1 = vec![EMBD as u64, FF as u64 + 32];
    let err = load_tiny(&tiny_meta(), &tensors).unwrap_err();
    match &err {
        LlmError::TensorShape {
            name,
            expected,
            found,
        } => {
            assert_eq!(name, "blk.0.ffn_up.weight");
            assert_eq!(expected, &[EMBD as u64, FF as u64]);
            assert_eq!(found, &[EMBD as u64, FF as u64 + 32]);
        }
        other => panic!("expected TensorShape, got {other}"),
    }
}

#[test]
fn missing_tensor_is_named() {
    let tensors: Vec<_> = tiny_tensors()
        .into_iter()
        .filter(|(n, _)| n != "blk.0.attn_v.weight")
        .collect();
    let err = load_tiny(&tiny_meta(), &tensors).unwrap_err();
    assert!(
        matches!(&err, LlmError::MissingTensor { name } if name == "blk.0.attn_v.weight"),
        "{err}"
    );
}

#[test]
fn unknown_architecture_is_named() {
    let mut meta = tiny_meta();
    set(&mut meta, "general.architecture", Value::from("mamba9"));
    let err = load_tiny(&meta, &tiny_tensors()).unwrap_err();
    assert!(
        matches!(&err, LlmError::UnknownArchitecture { arch } if arch == "mamba9"),
        "{err}"
    );
    assert!(err.to_string().contains("mamba9") && err.to_string().contains("llama"));
}

#[test]
fn unsupported_weight_type_fails_at_load() {
    // No matrix kernel takes i32 weights: the error must come at load, naming the tensor.
    let ty_of = |name: &str| (name == "blk.0.ffn_gate.weight").then_some(GgmlType::I32);
    let err = load_tiny_typed(&tiny_meta(), &tiny_tensors(), ty_of).unwrap_err();
    assert!(
        matches!(&err, LlmError::UnsupportedTensorType { name, ty: GgmlType::I32 } if name == "blk.0.ffn_gate.weight"),
        "{err}"
    );
}

// ---------------------------------------------------------------------------------------
// Hostile input and the sliding window: tiny hand-made gemma3 models.

/// Head width of the tiny gemma3 model: deliberately not `EMBD / HEADS`, as in Gemma 3.
const G_HEAD_DIM: usize = 32;

/// Metadata of a two-layer gemma3 model whose layers alternate local (window `window`),
/// global.
fn tiny_gemma3_meta(window: u32) -> Vec<(String, Value)> {
    let mut meta = vec![
        ("general.architecture".into(), Value::from("gemma3")),
        ("gemma3.context_length".into(), Value::U32(64)),
        ("gemma3.embedding_length".into(), Value::U32(EMBD as u32)),
        ("gemma3.block_count".into(), Value::U32(2)),
        ("gemma3.feed_forward_length".into(), Value::U32(FF as u32)),
        ("gemma3.attention.head_count".into(), Value::U32(HEADS)),
        (
            "gemma3.attention.head_count_kv".into(),
            Value::U32(KV_HEADS),
        ),
        (
            "gemma3.attention.key_length".into(),
            Value::U32(G_HEAD_DIM as u32),
        ),
        (
            "gemma3.attention.value_length".into(),
            Value::U32(G_HEAD_DIM as u32),
        ),
        (
            "gemma3.attention.layer_norm_rms_epsilon".into(),
            Value::F32(1e-6),
        ),
        ("gemma3.rope.freq_base".into(), Value::F32(1e6)),
        ("gemma3.attention.sliding_window".into(), Value::U32(window)),
        (
            "gemma3.attention.sliding_window_pattern".into(),
            Value::U32(2),
        ),
    ];
    meta.extend(tokenizer_meta());
    meta
}

/// Tensors of the two-layer gemma3 model (output tied to the embedding).
fn tiny_gemma3_tensors() -> Vec<(String, Vec<u64>)> {
    let (e, f, v, d) = (EMBD as u64, FF as u64, VOCAB as u64, G_HEAD_DIM as u64);
    let (q, kv) = (d * u64::from(HEADS), d * u64::from(KV_HEADS));
    let mut t: Vec<(String, Vec<u64>)> = vec![
        ("token_embd.weight".into(), vec![e, v]),
        ("output_norm.weight".into(), vec![e]),
    ];
    for l in 0..2 {
        for (name, dims) in [
            ("attn_norm", vec![e]),
            ("attn_q", vec![e, q]),
            ("attn_k", vec![e, kv]),
            ("attn_v", vec![e, kv]),
            ("attn_q_norm", vec![d]),
            ("attn_k_norm", vec![d]),
            ("attn_output", vec![q, e]),
            ("post_attention_norm", vec![e]),
            ("ffn_norm", vec![e]),
            ("ffn_gate", vec![e, f]),
            ("ffn_up", vec![e, f]),
            ("ffn_down", vec![f, e]),
            ("post_ffw_norm", vec![e]),
        ] {
            t.push((format!("blk.{l}.{name}.weight"), dims));
        }
    }
    t
}

#[test]
fn tiny_gemma3_loads_and_runs() {
    let model = load_tiny(&tiny_gemma3_meta(4), &tiny_gemma3_tensors()).unwrap();
    assert_eq!(model.architecture(), "gemma3");
    let mut session = model.session(8).unwrap();
    let logits = session.eval(&[1, 4, 3, 4, 4, 3]).unwrap();
    assert_eq!(logits.len(), VOCAB);
    assert!(logits.iter().all(|v| v.is_finite()));
}

/// A local layer at position `p` sees positions `p - window + 1 ..= p`: shrinking the
/// window below the sequence changes the last logits, growing it beyond does not, and with
/// a window of one on every layer a token's logits ignore everything before it.
#[test]
fn gemma3_sliding_window_masks_old_positions() {
    let tokens = [1, 4, 3, 5, 4];
    let last = |meta: Vec<(String, Value)>| {
        let model = load_tiny(&meta, &tiny_gemma3_tensors()).unwrap();
        let mut session = model.session(tokens.len()).unwrap();
        session.eval(&tokens).unwrap().to_vec()
    };
    // A window as long as the sequence masks nothing: the same as a longer one.
    let unmasked = last(tiny_gemma3_meta(tokens.len() as u32));
    assert_eq!(last(tiny_gemma3_meta(tokens.len() as u32 + 7)), unmasked);
    assert_ne!(last(tiny_gemma3_meta(tokens.len() as u32 - 1)), unmasked);
    assert_ne!(last(tiny_gemma3_meta(1)), unmasked);
    // Window 1 on every layer: each position attends to itself alone, so the logits of a
    // token do not depend on what came before it.
    let mut all_local = tiny_gemma3_meta(1);
    set(
        &mut all_local,
        "gemma3.attention.sliding_window_pattern",
        Value::U32(0),
    );
    let model = load_tiny(&all_local, &tiny_gemma3_tensors()).unwrap();
    let mut session = model.session(tokens.len()).unwrap();
    let after_prefix = session.eval(&tokens).unwrap().to_vec();
    let mut alone = model.session(1).unwrap();
    // One row against a batch of five: equal up to the batched kernels' rounding.
    if let Err(e) = batch_close(alone.eval(&[4]).unwrap(), &after_prefix) {
        panic!("window 1: {e}");
    }
}

#[test]
fn gemma3_missing_key_length_is_named() {
    // Gemma 3's head width is never n_embd / n_head, so the key must be present.
    let meta: Vec<_> = tiny_gemma3_meta(4)
        .into_iter()
        .filter(|(k, _)| k != "gemma3.attention.key_length")
        .collect();
    let err = load_tiny(&meta, &tiny_gemma3_tensors()).unwrap_err();
    assert!(
        matches!(&err, LlmError::MissingHyperparameter { key } if key == "gemma3.attention.key_length"),
        "{err}"
    );
    assert!(err.to_string().contains("gemma3.attention.key_length"));
}

#[test]
fn gemma3_bad_hyperparameters_are_named() {
    let cases: [(&str, Value); 3] = [
        ("gemma3.rope.scaling.type", Value::from("yarn")),
        ("gemma3.rope.scaling.factor", Value::F32(-2.0)),
        ("gemma3.final_logit_softcapping", Value::F32(f32::NAN)),
    ];
    for (key, value) in cases {
        let mut meta = tiny_gemma3_meta(4);
        meta.push((key.into(), value));
        let err = load_tiny(&meta, &tiny_gemma3_tensors()).unwrap_err();
        assert!(
            matches!(&err, LlmError::BadHyperparameter { key: k, .. } if k == key),
            "{key}: {err}"
        );
    }
    let tensors: Vec<_> = tiny_gemma3_tensors()
        .into_iter()
        .filter(|(n, _)| n != "blk.1.post_ffw_norm.weight")
        .collect();
    let err = load_tiny(&tiny_gemma3_meta(4), &tensors).unwrap_err();
    assert!(
        matches!(&err, LlmError::MissingTensor { name } if name == "blk.1.post_ffw_norm.weight"),
        "{err}"
    );
}

// ---------------------------------------------------------------------------------------
// Batched prompts: tiny models of every architecture.

/// Metadata of a tiny model.
type Meta = Vec<(String, Value)>;
/// Tensors of a tiny model: `(name, dims)`.
type Tensors = Vec<(String, Vec<u64>)>;

/// A one-layer `qwen2` or `qwen3` model: the llama metadata under the architecture's own
/// keys, plus the tensors that set it apart (Q/K/V biases; per-head Q/K norms, with a head
/// width of `G_HEAD_DIM` from `qwen3.attention.key_length`, not `EMBD / HEADS`).
fn tiny_qwen(arch: &str) -> (Meta, Tensors) {
    let mut meta: Vec<(String, Value)> = tiny_meta()
        .into_iter()
        .map(|(k, v)| match k.strip_prefix("llama.") {
            Some(rest) => (format!("{arch}.{rest}"), v),
            None => (k, v),
        })
        .collect();
    set(&mut meta, "general.architecture", Value::from(arch));
    let mut tensors = tiny_tensors();
    let (e, d) = (EMBD as u64, G_HEAD_DIM as u64);
    match arch {
        "qwen2" => {
            let kv = e / u64::from(HEADS) * u64::from(KV_HEADS);
            for (name, len) in [("attn_q", e), ("attn_k", kv), ("attn_v", kv)] {
                tensors.push((format!("blk.0.{name}.bias"), vec![len]));
            }
        }
        _ => {
            meta.push((
                format!("{arch}.attention.key_length"),
                Value::U32(G_HEAD_DIM as u32),
            ));
            let (q, kv) = (d * u64::from(HEADS), d * u64::from(KV_HEADS));
            for (name, dims) in [
                ("attn_q", vec![e, q]),
                ("attn_k", vec![e, kv]),
                ("attn_v", vec![e, kv]),
                ("attn_output", vec![q, e]),
            ] {
                let t = tensors
                    .iter_mut()
                    .find(|(n, _)| *n == format!("blk.0.{name}.weight"))
                    .unwrap();
                t.1 = dims;
            }
            tensors.push(("blk.0.attn_q_norm.weight".into(), vec![d]));
            tensors.push(("blk.0.attn_k_norm.weight".into(), vec![d]));
        }
    }
    (meta, tensors)
}

/// Largest |a - b| over two equally long slices.
/// Logits of the same tokens evaluated in different batches agree up to rounding: the
/// batched kernels (`edge_kernels::matmul`) promise products within 1e-5·Σ|w·x| of the
/// one-row kernels, not bit-equality (on the scalar and AVX2 tiers they are bit-equal), and
/// a deep network amplifies such differences where an activation lands on the other side
/// of a quantization step (SmolLM2 on AVX-512: up to 3% of the spread). The bound: max |Δ|
/// at most 5% of the spread of `b` (its largest minus its smallest logit).
fn batch_close(a: &[f32], b: &[f32]) -> Result<(), String> {
    let d = max_abs_diff(a, b);
    let (lo, hi) = b
        .iter()
        .fold((f32::MAX, f32::MIN), |(lo, hi), &v| (lo.min(v), hi.max(v)));
    if d <= 0.05 * (hi - lo) {
        Ok(())
    } else {
        Err(format!("max |Δ| {d} over a spread of {}", hi - lo))
    }
}

/// [`batch_close`], and the same top-1 token (for real models, whose top-1 margins on these
/// prompts are wide).
fn assert_batch_close(a: &[f32], b: &[f32], what: &str) {
    if let Err(e) = batch_close(a, b) {
        panic!("{what}: {e}");
    }
    assert_eq!(argmax(a), argmax(b), "{what}: top-1");
}

fn max_abs_diff(a: &[f32], b: &[f32]) -> f32 {
    assert_eq!(a.len(), b.len());
    a.iter()
        .zip(b)
        .map(|(x, y)| (x - y).abs())
        .fold(0.0, f32::max)
}

/// A prompt longer than one batch (512 tokens) gives the same logits evaluated at once
/// (`eval`: last row; `eval_all`: every row), in uneven pieces, and token by token — for
/// every architecture, the sliding window of gemma3 included (window 4, so it slides
/// across batch boundaries), up to the rounding of the batched kernels ([`batch_close`]).
#[test]
fn batched_prompts_equal_token_by_token() {
    let (qwen2, qwen2_tensors) = tiny_qwen("qwen2");
    let (qwen3, qwen3_tensors) = tiny_qwen("qwen3");
    let models = [
        ("llama", tiny_meta(), tiny_tensors()),
        ("qwen2", qwen2, qwen2_tensors),
        ("qwen3", qwen3, qwen3_tensors),
        ("gemma3", tiny_gemma3_meta(4), tiny_gemma3_tensors()),
    ];
    let tokens: Vec<u32> = (0..600u32).map(|i| (i * 37 + 11) % VOCAB as u32).collect();
    for (arch, meta, tensors) in models {
        let model = load_tiny(&meta, &tensors).unwrap_or_else(|e| panic!("{arch}: {e}"));
        assert_eq!(model.architecture(), arch);
        let n = tokens.len();
        let mut session = model.session(n).unwrap();

        let all = session.eval_all(&tokens).unwrap();
        assert_eq!(all.len(), n * VOCAB);
        assert!(all.iter().all(|v| v.is_finite()), "{arch}");
        let last = &all[(n - 1) * VOCAB..];
        assert_eq!(
            session.logits(),
            last,
            "{arch}: eval_all keeps the last logits"
        );

        session.reset();
        let at_once = session.eval(&tokens).unwrap().to_vec();
        assert_eq!(session.n_past(), n);
        if let Err(e) = batch_close(&at_once, last) {
            panic!("{arch}: eval vs eval_all: {e}");
        }

        session.reset();
        let mut pieces = Vec::new();
        for chunk in [
            &tokens[..1],
            &tokens[1..300],
            &tokens[300..599],
            &tokens[599..],
        ] {
            pieces = session.eval(chunk).unwrap().to_vec();
        }
        if let Err(e) = batch_close(&pieces, last) {
            panic!("{arch}: in pieces: {e}");
        }

        session.reset();
        for (i, &t) in tokens.iter().enumerate() {
            let row = session.eval(&[t]).unwrap();
            if let Err(e) = batch_close(row, &all[i * VOCAB..(i + 1) * VOCAB]) {
                panic!("{arch}: token {i} alone: {e}");
            }
        }
        // The logits depend on the position: not every row is the same.
        assert!(batch_close(&all[..VOCAB], last).is_err(), "{arch}");
    }
}

#[test]
fn qwen_tiny_models_name_their_missing_tensors() {
    for (arch, missing) in [
        ("qwen2", "blk.0.attn_k.bias"),
        ("qwen3", "blk.0.attn_q_norm.weight"),
    ] {
        let (meta, tensors) = tiny_qwen(arch);
        let tensors: Vec<_> = tensors.into_iter().filter(|(n, _)| n != missing).collect();
        let err = load_tiny(&meta, &tensors).unwrap_err();
        assert!(
            matches!(&err, LlmError::MissingTensor { name } if name == missing),
            "{arch}: {err}"
        );
    }
    // A per-head norm of the model width, not the head width.
    let (meta, mut tensors) = tiny_qwen("qwen3");
    let norm = tensors
        .iter_mut()
        .find(|(n, _)| n == "blk.0.attn_k_norm.weight")
        .unwrap();
    norm.1 = vec![EMBD as u64 * 2];
    let err = load_tiny(&meta, &tensors).unwrap_err();
    assert!(
        matches!(&err, LlmError::TensorShape { name, .. } if name == "blk.0.attn_k_norm.weight"),
        "{err}"
    );
}

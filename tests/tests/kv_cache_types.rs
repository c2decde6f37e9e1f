//! The q8_0 KV cache (`--cache-type-k q8_0` / `--cache-type-v q8_0`) against llama.cpp with
//! the same cache types on the same files.
//!
//! Each golden `tests/golden/kv-cache/<model>-k_<K>-v_<V>.json` was made by
//! `tests/refgen/llamacpp_kv_refs.sh`: libllama (`tests/refgen/llamacpp_reference.c`: CPU, 2
//! threads, flash attention auto, `type_k`/`type_v` as named) on the inputs of
//! `shared/reference/inputs`. The checks are the correctness criteria, with llama.cpp
//! run on the same cache types:
//!
//! - perplexity of the first 512 tokens of the text, in one window, within 1% of llama.cpp's;
//! - top-1 token at the prompt positions equal to llama.cpp's on at least 90% of them;
//! - greedy continuations equal to llama.cpp's for 16 tokens, or up to the first step where
//!   llama.cpp's own margin between its two best logits is below 0.5 (a near-tie).
//!
//! The token ids come from the golden (llama.cpp's tokenizer; edge's is checked to be
//! identical in `llm_reference.rs`). A missing model is a skip, or a failure under
//! `EDGE_CI=1`.

use edge_runtime::llm::{CacheType, LoadParams, Model, SessionParams};
use edge_tests::reference::{argmax, greedy_steps, ids, nll};
use serde_json::Value as Json;

#[test]
fn smollm2_q8_0_keys_and_values() {
    check("smollm2-k_q8_0-v_q8_0");
}

#[test]
fn smollm2_q8_0_keys_f16_values() {
    check("smollm2-k_q8_0-v_f16");
}

#[test]
fn gemma3_q8_0_keys_and_values() {
    check("gemma3-k_q8_0-v_q8_0");
}

#[test]
fn every_golden_has_a_test() {
    let listed = [
        "gemma3-k_q8_0-v_q8_0",
        "smollm2-k_q8_0-v_f16",
        "smollm2-k_q8_0-v_q8_0",
    ];
    assert_eq!(edge_tests::golden_names("kv-cache"), listed);
}

fn cache_type(golden: &Json, key: &str) -> CacheType {
    let name = golden[key].as_str().expect("cache type name");
    name.parse().unwrap_or_else(|e| panic!("{key}: {e}"))
}

fn check(name: &str) {
    let golden = edge_tests::golden_json(&format!("kv-cache/{name}.json"));
    let key = name.split('-').next().unwrap();
    let Some(path) = edge_tests::model(key) else {
        return;
    };
    let model = Model::load(&path, &LoadParams::default())
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let params = |n_ctx| SessionParams {
        n_ctx,
        type_k: cache_type(&golden, "cache_type_k"),
        type_v: cache_type(&golden, "cache_type_v"),
    };
    let n_vocab = model.n_vocab();
    let mut failures = Vec::new();

    // Perplexity.
    let reference = &golden["perplexity"][0];
    let tokens = ids(&reference["tokens"]);
    let mut session = model.session_with(&params(tokens.len())).unwrap();
    let logits = session.eval_all(&tokens).unwrap();
    let mean_nll = (0..tokens.len() - 1)
        .map(|i| nll(&logits[i * n_vocab..(i + 1) * n_vocab], tokens[i + 1]))
        .sum::<f64>()
        / (tokens.len() - 1) as f64;
    let (ppl, ppl_lcpp) = (mean_nll.exp(), reference["perplexity"].as_f64().unwrap());
    let rel = (ppl / ppl_lcpp - 1.0) * 100.0;
    eprintln!("{name} perplexity: ours {ppl:.4}, llama.cpp {ppl_lcpp:.4} ({rel:+.3}%)");
    if rel.abs() > 1.0 {
        failures.push(format!(
            "perplexity {ppl:.4} is more than 1% from llama.cpp's {ppl_lcpp:.4}"
        ));
    }
    drop((logits, session));

    // Prompts: top-1 at every position, then the greedy continuation.
    let (mut n, mut agree) = (0usize, 0usize);
    let mut steps_checked = Vec::new();
    for p in golden["prompts"].as_array().unwrap() {
        let tokens = ids(&p["tokens"]);
        let expected = ids(&p["greedy"]);
        let steps = greedy_steps(p);
        let mut session = model.session_with(&params(tokens.len() + steps)).unwrap();
        let logits = session.eval_all(&tokens).unwrap();
        for (i, pos) in p["positions"].as_array().unwrap().iter().enumerate() {
            let top = argmax(&logits[i * n_vocab..(i + 1) * n_vocab]);
            n += 1;
            agree += usize::from(Some(u64::from(top)) == pos["top"][0][0].as_u64());
        }
        let mut ours = Vec::new();
        let mut last = logits[(tokens.len() - 1) * n_vocab..].to_vec();
        for (step, &want) in expected[..steps].iter().enumerate() {
            let next = argmax(&last);
            ours.push(next);
            if next != want || step + 1 == steps {
                break;
            }
            last = session.eval(&[next]).unwrap().to_vec();
        }
        if ours != expected[..steps] {
            failures.push(format!(
                "greedy continuation of {}: {ours:?}, llama.cpp {:?}",
                p["id"],
                &expected[..steps]
            ));
        }
        steps_checked.push(steps);
    }
    eprintln!(
        "{name} prompts: top-1 agreement with llama.cpp {agree}/{n}; greedy equal for \
         {steps_checked:?} steps (<= 16, up to llama.cpp's first margin < 0.5)"
    );
    if agree * 10 < n * 9 {
        failures.push(format!("top-1 vs llama.cpp: {agree}/{n}"));
    }
    assert!(failures.is_empty(), "{name}: {}", failures.join("; "));
}

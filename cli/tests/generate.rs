//! Generation (`edge-run MODEL -p …`, no subcommand) as a process: greedy tokens against
//! llama.cpp's (`shared/reference/llama.cpp/<model>.json`, `prompts[].greedy`), streaming,
//! seeds, stop strings, chat templates, and how it fails.

mod common;

use common::{clean_error, edge_run, llama_cpp_reference, ok, stderr};
use serde_json::Value as Json;
use std::ffi::OsStr;
use std::path::Path;

fn run_json(model: &Path, args: &[&str]) -> Json {
    let mut all: Vec<&OsStr> = vec![model.as_os_str()];
    all.extend(args.iter().map(OsStr::new));
    all.push(OsStr::new("--json"));
    let out = ok(&edge_run(&all));
    assert_eq!(out.lines().count(), 1, "--json prints one line: {out}");
    serde_json::from_str(&out).expect("valid JSON")
}

fn u64s(v: &Json) -> Vec<u64> {
    serde_json::from_value(v.clone()).unwrap()
}

/// The first 8 greedy tokens of the first reference prompt equal llama.cpp's, up to the first
/// step where llama.cpp's own best-vs-second logit margin is below 0.5 (a near-tie that a
/// correct runtime may break the other way).
fn greedy_matches_llama_cpp(key: &str) {
    let Some(model) = edge_tests::model(key) else {
        return;
    };
    let Some(reference) = llama_cpp_reference(key) else {
        return;
    };
    let prompt = &reference["prompts"][0];
    let text = prompt["text"].as_str().unwrap();
    let out = run_json(&model, &["-p", text, "-n", "16", "--temp", "0"]);
    assert_eq!(
        u64s(&out["prompt_tokens"]),
        u64s(&prompt["tokens"]),
        "{key} prompt"
    );
    let tokens = u64s(&out["tokens"]);
    let reason = out["stop_reason"].as_str().unwrap();
    assert!(
        tokens.len() == 16 && reason == "length" || tokens.len() < 16 && reason == "eos",
        "{key}: {} tokens, {reason}",
        tokens.len()
    );
    let want = u64s(&prompt["greedy"]);
    let margins = prompt["greedy_margin"].as_array().unwrap();
    let n = margins
        .iter()
        .position(|m| m.as_f64().unwrap() < 0.5)
        .map_or(8, |tie| tie.min(8));
    assert_eq!(tokens[..n], want[..n], "{key} greedy tokens");
    let t = &out["timings"];
    assert_eq!(t["n_prompt"], prompt["tokens"].as_array().unwrap().len());
    assert_eq!(t["n_gen"], 16);
    assert!(t["load_ms"].as_f64().unwrap() > 0.0);
}

#[test]
fn smollm2_greedy_matches_llama_cpp() {
    greedy_matches_llama_cpp("smollm2");
}

#[test]
fn gemma3_greedy_matches_llama_cpp() {
    greedy_matches_llama_cpp("gemma3");
}

#[test]
fn streamed_text_is_the_generated_text() {
    let Some(model) = edge_tests::model("smollm2") else {
        return;
    };
    let args = ["-p", "The capital of France is", "-n", "12", "--temp", "0"];
    let json = run_json(&model, &args);
    let mut all: Vec<&OsStr> = vec![model.as_os_str()];
    all.extend(args.iter().map(OsStr::new));
    let o = edge_run(&all);
    assert_eq!(ok(&o), json["text"].as_str().unwrap());
    // The timing summary is on stderr.
    let err = stderr(&o);
    for word in ["load", "prompt", "generation", "t/s", "peak RSS"] {
        assert!(err.contains(word), "{word}: {err}");
    }
}

#[test]
fn a_seed_repeats_a_sampled_run() {
    let Some(model) = edge_tests::model("smollm2") else {
        return;
    };
    let args = [
        "-p",
        "Once upon a time",
        "-n",
        "12",
        "--temp",
        "1.0",
        "--seed",
        "42",
    ];
    let a = run_json(&model, &args);
    let b = run_json(&model, &args);
    assert_eq!(a["tokens"], b["tokens"]);
    assert_eq!(a["seed"], 42);
}

#[test]
fn a_stop_string_ends_generation_and_is_not_printed() {
    let Some(model) = edge_tests::model("smollm2") else {
        return;
    };
    // Greedy continues " Paris.\n\nThe United States…".
    let out = run_json(
        &model,
        &[
            "-p",
            "The capital of France is",
            "-n",
            "16",
            "--temp",
            "0",
            "--stop",
            ".",
        ],
    );
    assert_eq!(out["text"], " Paris");
    assert_eq!(out["stop_reason"], "stop");
}

#[test]
fn chat_uses_the_model_template() {
    let Some(model) = edge_tests::model("smollm2") else {
        return;
    };
    let out = run_json(
        &model,
        &[
            "--system",
            "You are terse.",
            "-p",
            "What is 2+2?",
            "-n",
            "4",
            "--temp",
            "0",
        ],
    );
    // The prompt is jinja2's rendering of the same conversation, tokenized.
    let golden = edge_tests::golden_dir().join("chat/smollm2-system-user.txt");
    let ids = ok(&edge_run([
        "tokenize".as_ref(),
        model.as_os_str(),
        "-f".as_ref(),
        golden.as_os_str(),
    ]));
    let want: Vec<u64> = serde_json::from_str(&ids).unwrap();
    assert_eq!(u64s(&out["prompt_tokens"]), want);
}

#[test]
fn errors_are_one_line() {
    let Some(model) = edge_tests::model("smollm2") else {
        return;
    };
    let m = model.to_str().unwrap();
    let long = "word ".repeat(50);
    let line = clean_error(&edge_run([m, "-p", &long, "-c", "16"]));
    assert!(line.contains("context"), "{line}");

    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("bad.txt");
    std::fs::write(&bad, b"\xff\xfe hello").unwrap();
    let line = clean_error(&edge_run([m.as_ref(), "-f".as_ref(), bad.as_os_str()]));
    assert!(line.contains("UTF-8"), "{line}");

    let line = clean_error(&edge_run([m, "-p", "hi", "--top-p", "2"]));
    assert!(line.contains("top_p"), "{line}");

    // No prompt and no terminal to chat on.
    let line = clean_error(&edge_run([m]));
    assert!(line.contains("-p"), "{line}");

    let line = clean_error(&edge_run(["/nonexistent/model.gguf", "-p", "hi"]));
    assert!(line.contains("/nonexistent/model.gguf"), "{line}");

    let junk = dir.path().join("junk.gguf");
    std::fs::write(&junk, b"GGUF but not really").unwrap();
    let line = clean_error(&edge_run([junk.as_os_str(), "-p".as_ref(), "hi".as_ref()]));
    assert!(line.contains("junk.gguf"), "{line}");
}

#[test]
fn a_missing_default_model_says_how_to_get_it() {
    let dir = tempfile::tempdir().unwrap();
    let o = std::process::Command::new(env!("CARGO_BIN_EXE_edge-run"))
        .args(["-p", "hi"])
        .env("EDGE_MODELS", dir.path())
        .output()
        .unwrap();
    let line = clean_error(&o);
    assert!(line.contains("scripts/fetch-models.sh smollm2"), "{line}");
}

#[test]
fn the_default_model_is_used_when_none_is_named() {
    if edge_tests::model("smollm2").is_none() {
        return;
    }
    let o = std::process::Command::new(env!("CARGO_BIN_EXE_edge-run"))
        .args([
            "-p",
            "The capital of France is",
            "-n",
            "2",
            "--temp",
            "0",
            "--json",
        ])
        .env("EDGE_MODELS", edge_tests::models_dir())
        .output()
        .unwrap();
    let out: Json = serde_json::from_str(&ok(&o)).unwrap();
    assert_eq!(u64s(&out["tokens"]), [7042, 30]);
}

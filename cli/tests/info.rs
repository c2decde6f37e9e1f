//! `edge-run info` on the real test models, checked against facts read from the same files
//! by gguf-py (`tests/refgen/info_facts.py` → `tests/golden/info/*.json`), and on broken files.

mod common;

use common::{clean_error, edge_run, ok, tiny_f32_model};
use edge_tests::{golden_json, model};
use serde_json::Value as Json;

fn info_json(path: &std::path::Path) -> Json {
    let out = ok(&edge_run([
        "info".as_ref(),
        "--json".as_ref(),
        path.as_os_str(),
    ]));
    assert_eq!(out.lines().count(), 1, "--json prints one line");
    serde_json::from_str(&out).expect("valid JSON")
}

fn check_against_gguf_py(key: &str) {
    let Some(path) = model(key) else { return };
    let got = info_json(&path);
    let want = golden_json(&format!("info/{key}.json"));
    for field in [
        "gguf_version",
        "architecture",
        "name",
        "file_type",
        "block_count",
        "context_length",
        "embedding_length",
        "feed_forward_length",
        "head_count",
        "head_count_kv",
        "tokenizer_model",
        "tokenizer_pre",
        "vocab_size",
        "chat_template",
        "parameters",
        "file_size",
        "alignment",
        "data_offset",
        "tensor_count",
        "tensor_types",
    ] {
        // gguf-py spells types upper-case (Q4_K), ggml lower-case with a capital K (q4_K).
        let norm = |v: &Json| v.to_string().to_lowercase();
        assert_eq!(norm(&got[field]), norm(&want[field]), "{key}: {field}");
    }
    let mut keys: Vec<&String> = got["metadata"].as_object().unwrap().keys().collect();
    keys.sort();
    let want_keys: Vec<String> = serde_json::from_value(want["metadata_keys"].clone()).unwrap();
    assert_eq!(
        keys,
        want_keys.iter().collect::<Vec<_>>(),
        "{key}: metadata keys"
    );
    // Long arrays are summarised, short ones inline.
    let tokens = &got["metadata"]["tokenizer.ggml.tokens"];
    assert_eq!(tokens["type"], "array");
    assert_eq!(tokens["element_type"], "string");
    assert_eq!(tokens["len"], want["vocab_size"]);

    let got_tensors = got["tensors"].as_array().unwrap();
    let want_tensors = want["tensors"].as_array().unwrap();
    assert_eq!(got_tensors.len(), want_tensors.len());
    for (g, w) in got_tensors.iter().zip(want_tensors) {
        assert_eq!(g["name"], w["name"]);
        let name = &g["name"];
        assert_eq!(
            g["type"].as_str().unwrap().to_lowercase(),
            w["type"].as_str().unwrap(),
            "{name}"
        );
        assert_eq!(g["shape"], w["shape"], "{name}");
        assert_eq!(g["offset"], w["offset"], "{name}");
        assert_eq!(g["n_bytes"], w["n_bytes"], "{name}");
    }
}

#[test]
fn json_matches_gguf_py_smollm2() {
    check_against_gguf_py("smollm2");
}

#[test]
fn json_matches_gguf_py_gemma3() {
    check_against_gguf_py("gemma3");
}

#[test]
fn text_summary_of_smollm2() {
    let Some(path) = model("smollm2") else { return };
    let out = ok(&edge_run(["info".as_ref(), path.as_os_str()]));
    let line = |label: &str| {
        out.lines()
            .find(|l| l.starts_with(label))
            .unwrap_or_else(|| panic!("no {label} line in:\n{out}"))
            .to_string()
    };
    // Values from tests/golden/info/smollm2.json (gguf-py).
    assert!(line("architecture:").ends_with(" llama"));
    assert!(line("layers:").ends_with(" 30"));
    assert!(line("KV heads:").ends_with(" 3"));
    assert!(line("vocab size:").ends_with(" 49152"));
    assert!(line("pre-tokenizer:").ends_with(" smollm"));
    assert!(line("chat template:").ends_with(" yes"));
    assert!(line("file type:").contains("Q4_1"));
    assert!(line("parameters:").contains("134515008"));
    assert!(line("tensors:").ends_with(" 272"));
    assert!(
        !out.contains("blk.0.attn_q.weight"),
        "no tensor list without --tensors"
    );
}

#[test]
fn tensor_list_names_every_tensor() {
    let Some(path) = model("gemma3") else { return };
    let out = ok(&edge_run([
        "info".as_ref(),
        "--tensors".as_ref(),
        path.as_os_str(),
    ]));
    let want = golden_json("info/gemma3.json");
    for t in want["tensors"].as_array().unwrap() {
        let name = t["name"].as_str().unwrap();
        assert!(
            out.lines()
                .any(|l| l.split_whitespace().next() == Some(name)),
            "{name} not listed"
        );
    }
}

#[test]
fn missing_keys_show_as_dash() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("tiny.gguf");
    tiny_f32_model(&path);
    let out = ok(&edge_run(["info".as_ref(), path.as_os_str()]));
    for label in ["context length:", "tokenizer:", "vocab size:", "file type:"] {
        let line = out.lines().find(|l| l.starts_with(label)).unwrap();
        assert!(line.ends_with(" -"), "{line}");
    }
    let json = info_json(&path);
    assert_eq!(json["context_length"], Json::Null);
    assert_eq!(json["vocab_size"], Json::Null);
    assert_eq!(json["architecture"], "llama");
    assert_eq!(json["tensor_count"], 11);
}

#[test]
fn broken_files_fail_with_one_error_line() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let good = d.join("tiny.gguf");
    tiny_f32_model(&good);
    let bytes = std::fs::read(&good).unwrap();
    let cases: Vec<(&str, Vec<u8>)> = vec![
        ("empty.gguf", vec![]),
        (
            "garbage.gguf",
            (0..4096u32).map(|i| (i * 7919 % 251) as u8).collect(),
        ),
        ("header-only.gguf", bytes[..24].to_vec()),
        ("truncated-meta.gguf", bytes[..100].to_vec()),
        ("truncated-data.gguf", bytes[..bytes.len() / 2].to_vec()),
    ];
    for (name, content) in &cases {
        let path = d.join(name);
        std::fs::write(&path, content).unwrap();
        let line = clean_error(&edge_run(["info".as_ref(), path.as_os_str()]));
        assert!(line.contains(name), "{name}: error names the file: {line}");
    }
    let missing = d.join("missing.gguf");
    let line = clean_error(&edge_run(["info".as_ref(), missing.as_os_str()]));
    assert!(line.contains("missing.gguf"), "{line}");
    let line = clean_error(&edge_run(["info".as_ref(), d.as_os_str()]));
    assert!(line.contains("directory"), "{line}");
    // --json does not change how errors look.
    let line = clean_error(&edge_run(["info", "--json", "/nonexistent/x.gguf"]));
    assert!(line.starts_with("error: /nonexistent/x.gguf: "), "{line}");
}

#[test]
fn usage_errors_exit_2() {
    let o = edge_run(["info"]);
    assert_eq!(o.status.code(), Some(2));
    let o = edge_run(["frobnicate"]);
    assert_eq!(o.status.code(), Some(2));
}

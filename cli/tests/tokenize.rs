//! `edge-run tokenize` as a process, against llama.cpp's token ids
//! (`shared/reference/llama.cpp/<model>.json`, `tokenizer[]`).
//!
//! llama.cpp's tool escape-processed its input (`\n` → newline), which matters for one case
//! (a Windows path holding `\n`); edge-run takes text as it is unless `--escape` is given,
//! so every case is run with `--escape`, which applies the same rules.

mod common;

use common::{clean_error, edge_run, llama_cpp_reference, ok};

fn ids(out: &str) -> Vec<u64> {
    assert_eq!(out.lines().count(), 1, "one line: {out}");
    serde_json::from_str(out).expect("a JSON list")
}

fn check(key: &str) {
    let Some(model) = edge_tests::model(key) else {
        return;
    };
    let Some(reference) = llama_cpp_reference(key) else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let cases = reference["tokenizer"].as_array().unwrap();
    assert!(!cases.is_empty());
    for (i, case) in cases.iter().enumerate() {
        let text = case["text"].as_str().unwrap();
        // Through a file: some texts are awkward as arguments.
        let file = dir.path().join(format!("{i}.txt"));
        std::fs::write(&file, text).unwrap();
        for (extra, field) in [(None, "ids_default"), (Some("--no-bos"), "ids_no_bos")] {
            let mut args = vec![
                "tokenize".as_ref(),
                model.as_os_str(),
                "-f".as_ref(),
                file.as_os_str(),
                "--escape".as_ref(),
            ];
            args.extend(extra.map(std::ffi::OsStr::new));
            let got = ids(&ok(&edge_run(&args)));
            let want: Vec<u64> = serde_json::from_value(case[field].clone()).unwrap();
            assert_eq!(got, want, "{key} case {i} {field}: {text:?}");
        }
    }
}

#[test]
fn smollm2_matches_llama_cpp() {
    check("smollm2");
}

#[test]
fn gemma3_matches_llama_cpp() {
    check("gemma3");
}

#[test]
fn prompt_argument_and_special_tokens() {
    let Some(model) = edge_tests::model("smollm2") else {
        return;
    };
    let m = model.to_str().unwrap();
    // "The capital of France is", no BOS for this model (llama.cpp: prompts[0].tokens).
    let got = ids(&ok(&edge_run([
        "tokenize",
        m,
        "-p",
        "The capital of France is",
    ])));
    assert_eq!(got, [504, 3575, 282, 4649, 314]);
    // Special-token text becomes the special token (<|im_start|> = 1).
    let got = ids(&ok(&edge_run([
        "tokenize",
        m,
        "-p",
        "<|im_start|>",
        "--no-bos",
    ])));
    assert_eq!(got, [1]);
}

#[test]
fn bad_input_is_one_error_line() {
    let Some(model) = edge_tests::model("smollm2") else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("latin1.txt");
    std::fs::write(&bad, b"caf\xe9\n").unwrap();
    let line = clean_error(&edge_run([
        "tokenize".as_ref(),
        model.as_os_str(),
        "-f".as_ref(),
        bad.as_os_str(),
    ]));
    assert!(line.contains("UTF-8"), "{line}");
    let line = clean_error(&edge_run(["tokenize".as_ref(), model.as_os_str()]));
    assert!(line.contains("-p"), "{line}");
    let line = clean_error(&edge_run(["tokenize", "/nonexistent/m.gguf", "-p", "x"]));
    assert!(line.contains("/nonexistent/m.gguf"), "{line}");
}

//! Tokenizers against llama.cpp: for both test models, every case of the shared reference
//! (`shared/reference/llama.cpp/{smollm2,gemma3}.json`, made by libllama from the same GGUF
//! files) must give exactly llama.cpp's token ids, with and without BOS; the prompts and the
//! first 512 tokens of the perplexity text too. Decoding must give the text back, and the
//! streaming decoder must never emit half a character.
//!
//! Skipped (with a message) when a model or the reference directory is absent, unless
//! `EDGE_CI=1`, where that is a failure.

use std::path::{Path, PathBuf};
use std::time::Instant;

use edge_formats::GgufFile;
use edge_runtime::tokenizer::{DecodeOptions, Tokenizer};
use serde_json::Value as Json;

/// `shared/reference`, beside the repository; `None` (after a message) when absent.
fn reference_dir() -> Option<PathBuf> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../shared/reference");
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

/// The tokenizer of test model `key` and llama.cpp's reference outputs for it.
fn load(key: &str) -> Option<(Tokenizer, Json, PathBuf)> {
    let model = edge_tests::model(key)?;
    let reference = reference_dir()?;
    let path = reference.join(format!("llama.cpp/{key}.json"));
    let json: Json = serde_json::from_slice(
        &std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display())),
    )
    .unwrap_or_else(|e| panic!("{}: {e}", path.display()));

    let t0 = Instant::now();
    let file = GgufFile::open(&model).unwrap_or_else(|e| panic!("{}: {e}", model.display()));
    let t1 = Instant::now();
    let tok = Tokenizer::from_gguf(&file).unwrap_or_else(|e| panic!("{key}: {e}"));
    let t2 = Instant::now();
    eprintln!(
        "{key}: {} tokens; GGUF open {:.1} ms, tokenizer build {:.1} ms",
        tok.n_vocab(),
        (t1 - t0).as_secs_f64() * 1e3,
        (t2 - t1).as_secs_f64() * 1e3
    );
    Some((tok, json, reference))
}

fn ids(v: &Json, what: &str) -> Vec<u32> {
    v.as_array()
        .unwrap_or_else(|| panic!("{what} is not an array"))
        .iter()
        .map(|x| {
            x.as_u64()
                .and_then(|x| u32::try_from(x).ok())
                .unwrap_or_else(|| panic!("{what}: {x} is not a token id"))
        })
        .collect()
}

fn text(v: &Json, what: &str) -> String {
    v.as_str()
        .unwrap_or_else(|| panic!("{what} is not a string"))
        .to_owned()
}

/// The text llama.cpp tokenized for a corpus line. The reference was made with llama.cpp's
/// tools, which read their input with C-style escapes processed (`\n`, `\r`, `\t`, `\'`,
/// `\"`, `\\`, `\xNN`; any other backslash is kept): in `C:\Users\name` the `\n` became
/// a newline before tokenization, as its reference ids show. Texts without a backslash are
/// unchanged.
fn as_llama_cpp_read_it(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] != b'\\' || i + 1 == bytes.len() {
            out.push(bytes[i]);
            i += 1;
            continue;
        }
        let escaped = match bytes[i + 1] {
            b'n' => Some(b'\n'),
            b'r' => Some(b'\r'),
            b't' => Some(b'\t'),
            c @ (b'\'' | b'"' | b'\\') => Some(c),
            b'x' => bytes
                .get(i + 2..i + 4)
                .and_then(|h| std::str::from_utf8(h).ok())
                .and_then(|h| u8::from_str_radix(h, 16).ok())
                .inspect(|_| i += 2),
            _ => None,
        };
        match escaped {
            Some(b) => out.push(b),
            None => out.extend_from_slice(&bytes[i..i + 2]),
        }
        i += 2;
    }
    String::from_utf8(out).expect("escapes give UTF-8")
}

/// Compares every `tokenizer[]` case, with and without BOS; prints the counts.
fn check_tokenizer_cases(key: &str, tok: &Tokenizer, json: &Json) {
    let cases = json["tokenizer"].as_array().expect("tokenizer[]");
    assert!(!cases.is_empty(), "{key}: no tokenizer cases");
    let mut failures = Vec::new();
    let (mut ok_no_bos, mut ok_default) = (0, 0);
    for (i, case) in cases.iter().enumerate() {
        let input = as_llama_cpp_read_it(&text(&case["text"], "text"));
        let no_bos = ids(&case["ids_no_bos"], "ids_no_bos");
        let default = ids(&case["ids_default"], "ids_default");
        let ours = tok.encode(&input, false, true);
        if ours == no_bos {
            ok_no_bos += 1;
        } else {
            failures.push(format!(
                "case {i} {input:?} (no BOS):\n  llama.cpp {no_bos:?}\n  edge      {ours:?}"
            ));
        }
        let ours = tok.encode(&input, true, true);
        if ours == default {
            ok_default += 1;
        } else {
            failures.push(format!(
                "case {i} {input:?} (model default):\n  llama.cpp {default:?}\n  edge      {ours:?}"
            ));
        }
    }
    eprintln!(
        "{key}: tokenizer cases matching llama.cpp: {ok_no_bos}/{n} without BOS, {ok_default}/{n} with the model's BOS setting",
        n = cases.len()
    );
    assert!(failures.is_empty(), "{key}:\n{}", failures.join("\n"));
}

/// Prompts, and the first 512 tokens of the perplexity text.
fn check_prompts_and_perplexity_text(key: &str, tok: &Tokenizer, json: &Json, reference: &Path) {
    let prompts = json["prompts"].as_array().expect("prompts[]");
    for p in prompts {
        let input = text(&p["text"], "prompt text");
        let expected = ids(&p["tokens"], "prompt tokens");
        assert_eq!(
            tok.encode(&input, true, true),
            expected,
            "{key}: prompt {input:?}"
        );
    }
    eprintln!("{key}: {} prompts match", prompts.len());

    for ppl in json["perplexity"].as_array().expect("perplexity[]") {
        let file = text(&ppl["file"], "perplexity file");
        let expected = ids(&ppl["tokens"], "perplexity tokens");
        let path = reference.join("inputs").join(&file);
        let input =
            std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        let t0 = Instant::now();
        let ours = tok.encode(&input, true, true);
        let secs = t0.elapsed().as_secs_f64();
        eprintln!(
            "{key}: {file}: {} bytes -> {} tokens in {:.2} ms ({:.0} tokens/s, test profile)",
            input.len(),
            ours.len(),
            secs * 1e3,
            ours.len() as f64 / secs
        );
        assert!(
            ours.len() >= expected.len(),
            "{key}: {file}: too few tokens"
        );
        assert_eq!(ours[..expected.len()], expected[..], "{key}: {file}");
    }
}

/// Decoding gives the text back; the stream decoder emits it whole, character by
/// character, with no replacement characters.
fn check_decoding(key: &str, tok: &Tokenizer, json: &Json) {
    let mut split_characters = 0;
    for case in json["tokenizer"].as_array().expect("tokenizer[]") {
        let input = text(&case["text"], "text");
        // Without special tokens parsed, the text is plain text; with them, control tokens
        // are rendered back as their text. Either way the text must come back exactly
        // (neither model puts a space in front or tidies spaces when decoding).
        for parse_special in [false, true] {
            let encoded = tok.encode(&input, false, parse_special);
            assert_eq!(
                tok.decode(&encoded, DecodeOptions::default()),
                input,
                "{key}: decode(encode({input:?}, parse_special = {parse_special}))"
            );
        }

        let encoded = tok.encode(&input, false, true);
        let mut stream = tok.stream_decoder();
        let mut out = String::new();
        for &id in &encoded {
            let piece = stream.push(id);
            assert!(
                !piece.contains(char::REPLACEMENT_CHARACTER),
                "{key}: {input:?}: broken UTF-8 emitted at token {id}"
            );
            if std::str::from_utf8(&tok.token_to_piece(id)).is_err() {
                split_characters += 1;
            }
            out.push_str(&piece);
        }
        assert!(
            stream.pending().is_empty(),
            "{key}: {input:?}: bytes left over"
        );
        out.push_str(&stream.finish());
        assert_eq!(out, input, "{key}: stream decoding");
    }
    // The corpus has emoji and CJK text that both models spell in partial-character
    // tokens: the stream decoder was really put to work.
    eprintln!("{key}: {split_characters} tokens held part of a character");
    assert!(split_characters > 0, "{key}: no token split a character");
}

fn check_model(key: &str) {
    let Some((tok, json, reference)) = load(key) else {
        return;
    };
    check_tokenizer_cases(key, &tok, &json);
    check_prompts_and_perplexity_text(key, &tok, &json, &reference);
    check_decoding(key, &tok, &json);
}

#[test]
fn smollm2_matches_llama_cpp() {
    check_model("smollm2");
}

#[test]
fn gemma3_matches_llama_cpp() {
    check_model("gemma3");
}

#[test]
fn end_of_generation_tokens() {
    if let Some((tok, _, _)) = load("smollm2") {
        let im_end = tok.token_id("<|im_end|>").expect("<|im_end|>");
        let eot = tok.token_id("<|endoftext|>").expect("<|endoftext|>");
        assert!(tok.is_eog(im_end) && tok.is_eog(eot));
        assert!(!tok.is_eog(tok.token_id("<|im_start|>").expect("<|im_start|>")));
    }
    if let Some((tok, _, _)) = load("gemma3") {
        let end_of_turn = tok.token_id("<end_of_turn>").expect("<end_of_turn>");
        assert!(tok.is_eog(end_of_turn));
        assert!(tok.is_eog(tok.eos().expect("eos")));
        assert!(!tok.is_eog(tok.bos().expect("bos")));
        assert!(!tok.is_eog(tok.token_id("<start_of_turn>").expect("<start_of_turn>")));
    }
}

//! The `qwen2` (Q/K/V biases) and `qwen3` (per-head Q/K RMS norms, head width set by
//! `qwen3.attention.key_length`) forward passes and the `qwen2` pre-tokenizer, against tiny
//! random-weight models made by `tests/refgen/qwen_tiny.py`: Hugging Face transformers
//! builds them (fixed seeds), llama.cpp's `convert_hf_to_gguf.py` converts them to F32 GGUF
//! files, and the golden files in `tests/golden/qwen/` hold transformers' float32 logits at
//! every position of a few token sequences, and llama.cpp's token ids for a corpus of texts.
//!
//! Each model runs twice: from the committed F32 file, and from an F16 copy the test
//! writes (every tensor that llama.cpp's converter makes F16 with `--outtype f16` rounded to
//! f16 by edge-quant, checked byte for byte against the hashes of the converter's file).
//! Both are compared with the same transformers logits (float32, original weights).
//!
//! Tolerances. The script also ran llama.cpp on both conversions and recorded, in the
//! manifest, how far its logits are from transformers'. F32 weights: with an f32 KV cache
//! max |Δ| about 1e-5, the float32 noise floor (transformers f32 against f64 is the same);
//! with an f16 KV cache — what edge keeps — max |Δ| 0.006 (qwen2) and 0.009 (qwen3), mean
//! |Δ| 0.0007 and 0.0011. Edge must stay within max 0.04, mean 0.005 ([`F32`]), four to
//! six times that. F16 weights (activations rounded to f16 too, as llama.cpp does): max
//! 0.019 and 0.022, mean 0.0026 and 0.0032; edge must stay within max 0.08, mean 0.01
//! ([`F16`]). The mistakes a port can make move the logits much further (recorded in the
//! manifest under `mistakes_vs_transformers`): the wrong RoPE base, GPT-J instead of NeoX
//! rotation, Q/K/V biases left out, Q/K norm weights ignored or the norms skipped each move
//! the mean |Δ| by 0.23 or more and the max |Δ| by 2.7 or more. The top-1 token must be
//! transformers' at every position whose top-1 margin is at least twice the max |Δ|
//! tolerance; closer ones are near-ties which a result within tolerance may break either
//! way (the max |Δ| bound still covers them), and they must stay a minority.
//!
//! Then hostile input: copies of the F16 files with a bias tensor or a Q/K norm missing, a
//! bias of the wrong length, or no `qwen3.attention.key_length`, must fail to load with an
//! error that names the tensor or key.
//!
//! The golden files are committed and needed: when they are missing these tests fail.

use std::path::{Path, PathBuf};

use edge_formats::{GgmlType, GgufFile, GgufFileWriter, TensorSpec, Value};
use edge_runtime::llm::{LlmError, LoadParams, Model};
use edge_runtime::tokenizer::{DecodeOptions, PreTokenizer, Tokenizer};
use serde_json::Value as Json;

/// A weight type the models are tested in, with the tolerances against transformers.
#[derive(Clone, Copy, Debug)]
struct Variant {
    name: &'static str,
    /// Largest |Δ| allowed between edge's logits and transformers' (see the module docs).
    max_abs: f64,
    /// Largest mean |Δ| allowed.
    mean_abs: f64,
}

/// The committed F32 files.
const F32: Variant = Variant {
    name: "f32",
    max_abs: 0.04,
    mean_abs: 0.005,
};

/// F16 copies of them, as llama.cpp's converter would write with `--outtype f16`.
const F16: Variant = Variant {
    name: "f16",
    max_abs: 0.08,
    mean_abs: 0.01,
};

fn manifest() -> Json {
    edge_tests::golden_json("qwen/manifest.json")
}

/// The manifest entry of model `key`, after checking that its GGUF file is the one the
/// goldens were made from.
fn entry(manifest: &Json, key: &str) -> (Json, PathBuf) {
    let entry = manifest["models"][key].clone();
    assert!(entry.is_object(), "no model {key} in qwen/manifest.json");
    let name = entry["gguf"].as_str().expect("gguf file name").to_owned();
    let bytes = edge_tests::read_golden(&format!("qwen/{name}"));
    assert_eq!(
        edge_tests::sha256_bytes(&bytes),
        entry["gguf_sha256"].as_str().unwrap(),
        "qwen/{name} is not the file the goldens were made from"
    );
    let path = edge_tests::golden_dir().join("qwen").join(&name);
    (entry, path)
}

fn ids(v: &Json) -> Vec<u32> {
    v.as_array()
        .expect("an array of token ids")
        .iter()
        .map(|x| u32::try_from(x.as_u64().expect("a token id")).expect("a u32 id"))
        .collect()
}

fn load(path: &Path) -> Result<Model, LlmError> {
    Model::load(path, &LoadParams::default())
}

// ---------------------------------------------------------------------------------------
// Logits against transformers.

#[test]
fn qwen2_f32_logits_match_transformers() {
    logits_match_transformers("qwen2", F32);
}

#[test]
fn qwen3_f32_logits_match_transformers() {
    logits_match_transformers("qwen3", F32);
}

#[test]
fn qwen2_f16_logits_match_transformers() {
    logits_match_transformers("qwen2", F16);
}

#[test]
fn qwen3_f16_logits_match_transformers() {
    logits_match_transformers("qwen3", F16);
}

/// Differences between edge's logits and the reference, accumulated over positions.
struct Agreement {
    tol: Variant,
    max_abs: f64,
    sum_abs: f64,
    n_values: usize,
    positions: usize,
    /// Positions with a clear top-1 (margin ≥ 2 × the max |Δ| tolerance), and how many of
    /// them agree.
    clear: usize,
    clear_equal: usize,
    /// Positions whose top-1 we share, of all.
    top1_equal: usize,
}

impl Agreement {
    fn new(tol: Variant) -> Agreement {
        Agreement {
            tol,
            max_abs: 0.0,
            sum_abs: 0.0,
            n_values: 0,
            positions: 0,
            clear: 0,
            clear_equal: 0,
            top1_equal: 0,
        }
    }

    fn add(&mut self, ours: &[f32], reference: &[f32], what: &str) {
        assert_eq!(ours.len(), reference.len(), "{what}: row length");
        assert!(
            ours.iter().all(|v| v.is_finite()),
            "{what}: non-finite logit"
        );
        for (&a, &b) in ours.iter().zip(reference) {
            let d = (f64::from(a) - f64::from(b)).abs();
            self.max_abs = self.max_abs.max(d);
            self.sum_abs += d;
        }
        self.n_values += ours.len();
        self.positions += 1;
        let top = argmax(reference);
        let equal = argmax(ours) == top;
        self.top1_equal += usize::from(equal);
        if margin(reference) >= 2.0 * self.tol.max_abs {
            self.clear += 1;
            self.clear_equal += usize::from(equal);
            assert!(
                equal,
                "{what}: top-1 {} where transformers has {top} (margin {:.3})",
                argmax(ours),
                margin(reference)
            );
        }
    }

    fn mean_abs(&self) -> f64 {
        self.sum_abs / self.n_values as f64
    }
}

fn argmax(row: &[f32]) -> usize {
    let mut best = 0;
    for (i, &v) in row.iter().enumerate() {
        if v > row[best] {
            best = i;
        }
    }
    best
}

/// Best logit minus the second best.
fn margin(row: &[f32]) -> f64 {
    let (mut first, mut second) = (f32::NEG_INFINITY, f32::NEG_INFINITY);
    for &v in row {
        if v > first {
            second = first;
            first = v;
        } else if v > second {
            second = v;
        }
    }
    f64::from(first) - f64::from(second)
}

fn logits_match_transformers(arch: &str, variant: Variant) {
    let manifest = manifest();
    let (entry, f32_path) = entry(&manifest, arch);
    let dir = tempfile::tempdir().unwrap();
    let path = match variant.name {
        "f32" => f32_path,
        _ => f16_copy(&entry, &f32_path, dir.path()),
    };
    // Names the model and weight type in messages: "qwen2 f16".
    let key = format!("{arch} {}", variant.name);
    let logits_name = format!("qwen/{}", entry["logits"].as_str().unwrap());
    let bytes = edge_tests::read_golden(&logits_name);
    assert_eq!(
        edge_tests::sha256_bytes(&bytes),
        entry["logits_sha256"].as_str().unwrap(),
        "{logits_name}"
    );
    let reference = edge_tests::f32s(&bytes);
    let shape = ids(&entry["logits_shape"]);
    let (n_pos, n_vocab) = (shape[0] as usize, shape[1] as usize);
    assert_eq!(reference.len(), n_pos * n_vocab, "{logits_name}: size");

    let model = load(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    assert_eq!(model.architecture(), arch);
    assert_eq!(model.n_vocab(), n_vocab);
    let config = &entry["config"];
    assert_eq!(
        model.n_embd() as u64,
        config["hidden_size"].as_u64().unwrap()
    );
    assert_eq!(
        model.n_layer() as u64,
        config["num_hidden_layers"].as_u64().unwrap()
    );

    let mut all = Agreement::new(variant);
    let mut seen = 0;
    for seq in entry["sequences"].as_array().unwrap() {
        let name = seq["name"].as_str().unwrap();
        let tokens = ids(&seq["tokens"]);
        let offset = seq["offset"].as_u64().unwrap() as usize;
        let rows = &reference[offset * n_vocab..(offset + tokens.len()) * n_vocab];
        seen += tokens.len();
        if let Some(text) = seq["text"].as_str() {
            assert_eq!(
                model.tokenizer().encode(text, true, true),
                tokens,
                "{key}: our tokens of {text:?}"
            );
        }

        // All positions in one batch.
        let mut session = model.session(tokens.len()).unwrap();
        let ours = session.eval_all(&tokens).unwrap();
        assert_eq!(ours.len(), rows.len(), "{key}/{name}: logits");
        let mut batch = Agreement::new(variant);
        for (i, (o, r)) in ours
            .chunks_exact(n_vocab)
            .zip(rows.chunks_exact(n_vocab))
            .enumerate()
        {
            let what = format!("{key}/{name} position {i}");
            batch.add(o, r, &what);
            all.add(o, r, &what);
        }

        // The same sequence one token at a time, through the KV cache.
        let mut session = model.session(tokens.len()).unwrap();
        let mut step = Agreement::new(variant);
        for (i, (&t, r)) in tokens.iter().zip(rows.chunks_exact(n_vocab)).enumerate() {
            let o = session.eval(&[t]).unwrap();
            step.add(o, r, &format!("{key}/{name} token by token, position {i}"));
        }
        eprintln!(
            "{key}/{name}: {} positions, max |Δ| {:.2e} (one token at a time {:.2e}), \
             mean |Δ| {:.2e}, top-1 equal {}/{}",
            tokens.len(),
            batch.max_abs,
            step.max_abs,
            batch.mean_abs(),
            batch.top1_equal,
            batch.positions
        );
        for (what, a) in [("batch", &batch), ("token by token", &step)] {
            assert!(
                a.max_abs <= variant.max_abs,
                "{key}/{name} ({what}): max |Δ| {} > {}",
                a.max_abs,
                variant.max_abs
            );
            assert!(
                a.mean_abs() <= variant.mean_abs,
                "{key}/{name} ({what}): mean |Δ| {} > {}",
                a.mean_abs(),
                variant.mean_abs
            );
        }
    }
    assert_eq!(seen, n_pos, "{key}: sequences cover the logits file");
    let lcpp = match variant.name {
        "f32" => &entry["agreement"]["llama.cpp_f16kv_vs_transformers"],
        _ => &entry["agreement"]["llama.cpp_f16weights_f16kv_vs_transformers"],
    };
    eprintln!(
        "{key}: edge vs transformers max |Δ| {:.2e}, mean |Δ| {:.2e}, top-1 {}/{} \
         ({}/{} clear positions); llama.cpp (same weights, f16 KV) vs transformers \
         max {:.2e}, mean {:.2e}",
        all.max_abs,
        all.mean_abs(),
        all.top1_equal,
        all.positions,
        all.clear_equal,
        all.clear,
        lcpp["max_abs"].as_f64().unwrap(),
        lcpp["mean_abs"].as_f64().unwrap()
    );
    // Near-ties are excused from the top-1 check; they must stay a small minority.
    assert!(
        all.clear * 4 >= all.positions * 3,
        "{key}: only {}/{} positions have a clear top-1",
        all.clear,
        all.positions
    );
}

// ---------------------------------------------------------------------------------------
// The tokenizer against llama.cpp.

#[test]
fn tokenizer_matches_llama_cpp() {
    let manifest = manifest();
    let cases = manifest["tokenizer"].as_array().expect("tokenizer cases");
    assert!(cases.len() >= 40);
    for key in ["qwen2", "qwen3"] {
        let (_, path) = entry(&manifest, key);
        let tok = Tokenizer::open(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        assert_eq!(tok.pre_tokenizer(), Some(PreTokenizer::Qwen2));
        assert!(!tok.add_bos(), "Qwen adds no BOS");
        let mut n = 0;
        for case in cases {
            let text = case["text"].as_str().unwrap();
            let special = ids(&case["ids"]);
            let plain = ids(&case["ids_plain"]);
            assert_eq!(tok.encode(text, true, true), special, "{key}: {text:?}");
            assert_eq!(
                tok.encode(text, true, false),
                plain,
                "{key}: {text:?} (special tokens as text)"
            );
            assert_eq!(
                tok.decode(&special, DecodeOptions::default()),
                text,
                "{key}: decoding {special:?}"
            );
            n += 1;
        }
        eprintln!("{key}: {n} texts tokenized as llama.cpp does, both ways");
    }
}

// ---------------------------------------------------------------------------------------
// Hostile input: the real files, damaged.

/// The F16 conversion of model `entry` (its manifest entry), written into `dir` from the
/// F32 file: every tensor the converter made F16 is rounded to f16 by edge-quant; each
/// tensor must then be byte for byte the converter's (sha256 in the manifest).
fn f16_copy(entry: &Json, f32_path: &Path, dir: &Path) -> PathBuf {
    let file = GgufFile::open(f32_path).unwrap();
    let expected = entry["f16_variant"]["tensors"]
        .as_object()
        .expect("f16_variant.tensors");
    assert_eq!(expected.len(), file.tensors().len(), "tensor count");
    let mut metadata = file.metadata().to_vec();
    if let Some((_, v)) = metadata.iter_mut().find(|(k, _)| k == "general.file_type") {
        *v = Value::U32(1); // mostly F16
    }
    let mut specs = Vec::new();
    let mut data = Vec::new();
    for info in file.tensors() {
        let (ty, sha) = match &expected[&info.name] {
            Json::Array(v) => (v[0].as_str().unwrap(), v[1].as_str().unwrap()),
            other => panic!("{}: {other}", info.name),
        };
        let f32_bytes = file.tensor_data(info);
        let (ggml_type, bytes) = match ty {
            "F32" => (GgmlType::F32, f32_bytes.to_vec()),
            "F16" => {
                let values = edge_tests::f32s(f32_bytes);
                let mut out = vec![0u8; values.len() * 2];
                edge_quant::quantize(GgmlType::F16, &values, &mut out).unwrap();
                (GgmlType::F16, out)
            }
            other => panic!("{}: unexpected type {other}", info.name),
        };
        assert_eq!(
            edge_tests::sha256_bytes(&bytes),
            sha,
            "{} differs from llama.cpp's F16 conversion",
            info.name
        );
        specs.push(TensorSpec::new(
            info.name.clone(),
            info.dims.clone(),
            ggml_type,
        ));
        data.push(bytes);
    }
    let path = dir.join("f16.gguf");
    let mut w = GgufFileWriter::new(&path, &metadata, &specs).unwrap();
    for (spec, bytes) in specs.iter().zip(&data) {
        w.write_tensor(&spec.name, bytes).unwrap();
    }
    w.commit().unwrap();
    path
}

/// The F16 file of model `key`, in `dir`.
fn f16_file(key: &str, dir: &Path) -> PathBuf {
    let (entry, f32_path) = entry(&manifest(), key);
    f16_copy(&entry, &f32_path, dir)
}

/// A copy of `src` in `dir` with tensor `drop` left out, or `(name, n)` cut to its first
/// `n` elements (1-D F32 tensors), and metadata key `drop_key` left out.
fn damaged_copy(
    src: &Path,
    dir: &Path,
    drop: Option<&str>,
    shorten: Option<(&str, u64)>,
    drop_key: Option<&str>,
) -> PathBuf {
    let file = GgufFile::open(src).unwrap();
    let metadata: Vec<(String, Value)> = file
        .metadata()
        .iter()
        .filter(|(k, _)| Some(k.as_str()) != drop_key)
        .cloned()
        .collect();
    let mut specs = Vec::new();
    let mut data = Vec::new();
    for info in file.tensors() {
        if Some(info.name.as_str()) == drop {
            continue;
        }
        let mut bytes = file.tensor_data(info);
        let mut dims = info.dims.clone();
        if let Some((name, n)) = shorten {
            if info.name == name {
                dims = vec![n];
                bytes = &bytes[..n as usize * 4];
            }
        }
        specs.push(TensorSpec::new(info.name.clone(), dims, info.ggml_type));
        data.push(bytes.to_vec());
    }
    let path = dir.join("damaged.gguf");
    let mut w = GgufFileWriter::new(&path, &metadata, &specs).unwrap();
    for (spec, bytes) in specs.iter().zip(&data) {
        w.write_tensor(&spec.name, bytes).unwrap();
    }
    w.commit().unwrap();
    path
}

#[test]
fn qwen2_missing_bias_is_named() {
    let dir = tempfile::tempdir().unwrap();
    let src = f16_file("qwen2", dir.path());
    for name in [
        "blk.0.attn_q.bias",
        "blk.1.attn_k.bias",
        "blk.1.attn_v.bias",
    ] {
        let path = damaged_copy(&src, dir.path(), Some(name), None, None);
        let err = load(&path).unwrap_err();
        assert!(
            matches!(&err, LlmError::MissingTensor { name: n } if n == name),
            "{name}: {err}"
        );
        assert!(err.to_string().contains(name), "{err}");
    }
}

#[test]
fn qwen2_short_bias_is_named() {
    let dir = tempfile::tempdir().unwrap();
    let src = f16_file("qwen2", dir.path());
    // K has 2 heads of 16: 32 values, not 16.
    let path = damaged_copy(
        &src,
        dir.path(),
        None,
        Some(("blk.0.attn_k.bias", 16)),
        None,
    );
    let err = load(&path).unwrap_err();
    match &err {
        LlmError::TensorShape {
            name,
            expected,
            found,
        } => {
            assert_eq!(name, "blk.0.attn_k.bias");
            assert_eq!(expected, &[32]);
            assert_eq!(found, &[16]);
        }
        other => panic!("expected TensorShape, got {other}"),
    }
}

#[test]
fn qwen3_missing_qk_norm_is_named() {
    let dir = tempfile::tempdir().unwrap();
    let src = f16_file("qwen3", dir.path());
    for name in ["blk.0.attn_q_norm.weight", "blk.1.attn_k_norm.weight"] {
        let path = damaged_copy(&src, dir.path(), Some(name), None, None);
        let err = load(&path).unwrap_err();
        assert!(
            matches!(&err, LlmError::MissingTensor { name: n } if n == name),
            "{name}: {err}"
        );
    }
}

#[test]
fn qwen3_without_key_length_is_an_error() {
    // Without `qwen3.attention.key_length` the head width would be 64 / 4 = 16, which the
    // tensors (head width 32) contradict: an error naming the key or a tensor, never a
    // panic or a silently wrong model.
    let dir = tempfile::tempdir().unwrap();
    let src = f16_file("qwen3", dir.path());
    let path = damaged_copy(
        &src,
        dir.path(),
        None,
        None,
        Some("qwen3.attention.key_length"),
    );
    let err = load(&path).unwrap_err();
    assert!(
        matches!(&err, LlmError::MissingHyperparameter { key } if key == "qwen3.attention.key_length")
            || matches!(&err, LlmError::TensorShape { .. })
            || matches!(&err, LlmError::BadHyperparameter { .. }),
        "{err}"
    );
}

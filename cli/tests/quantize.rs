//! `edge-run quantize` end to end, as a real process: on SmolLM2 against llama-quantize's own
//! output (tensor types and the sha256 of every tensor's data, recorded by
//! `tests/refgen/llamacpp_quant_plans.sh`), on a tiny generated f32 model, and its refusals.

mod common;

use common::{clean_error, edge_run, ok, stderr, tiny_f32_model};
use edge_formats::{GgmlType, GgufFile, Value};
use edge_tests::{golden_json, model, read_golden};
use sha2::{Digest, Sha256};
use std::ffi::OsStr;
use std::path::Path;

fn sha256_hex(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

fn quantize(input: &Path, output: &Path, extra: &[&str]) -> std::process::Output {
    let mut args: Vec<&OsStr> = vec!["quantize".as_ref(), input.as_os_str(), output.as_os_str()];
    args.extend(extra.iter().map(|s| OsStr::new(*s)));
    edge_run(args)
}

/// Names of the entries of `dir`, to check nothing (not even a temporary file) was left.
fn entries(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

/// The tensor names of a `quantize-model` golden in the order llama-quantize wrote them: the
/// golden lists them in file order (one `"name": "sha256"` line each), which a parsed JSON
/// map would not keep.
fn golden_tensor_order(rel: &str) -> Vec<String> {
    let text = String::from_utf8(read_golden(rel)).unwrap();
    text.lines()
        .filter_map(|line| {
            let (name, hash) = line.trim().trim_end_matches(',').split_once("\": \"")?;
            let hash = hash.strip_suffix('"')?;
            (hash.len() == 64 && hash.bytes().all(|b| b.is_ascii_hexdigit()))
                .then(|| name.trim_start_matches('"').to_owned())
        })
        .collect()
}

fn smollm2_like_llama_quantize(mix: &str, file_type: u32) {
    let Some(input) = model("smollm2") else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join(format!("{mix}.gguf"));
    let report = ok(&quantize(
        &input,
        &out,
        &[mix, "--allow-requantize", "-t", "2"],
    ));
    assert!(report.contains("tensors:"), "{report}");
    assert_eq!(entries(dir.path()), [format!("{mix}.gguf")]);

    let src = GgufFile::open(&input).unwrap();
    let dst = GgufFile::open(&out).unwrap();
    let types = golden_json(&format!("quant-plans/smollm2-{mix}.json"));
    let reference = golden_json(&format!("quantize-model/smollm2-{mix}.json"));
    assert_eq!(reference["file_type"], file_type);

    // Same tensors and shapes, in llama-quantize's order; types and data as it wrote them.
    let order = golden_tensor_order(&format!("quantize-model/smollm2-{mix}.json"));
    let names: Vec<&str> = dst.tensors().iter().map(|t| t.name.as_str()).collect();
    assert_eq!(
        names, order,
        "{mix}: tensor order differs from llama-quantize's"
    );
    assert_eq!(dst.tensors().len(), src.tensors().len());
    let mut wrong_data = vec![];
    for d in dst.tensors() {
        let s = src.tensor(&d.name).unwrap();
        assert_eq!(d.dims, s.dims, "{}", d.name);
        let want = types[&d.name].as_str().unwrap();
        assert!(
            d.ggml_type.name().eq_ignore_ascii_case(want),
            "{}: {} but llama-quantize wrote {want}",
            d.name,
            d.ggml_type
        );
        if sha256_hex(dst.tensor_data(d)) != reference["tensors"][&d.name] {
            wrong_data.push(d.name.clone());
        }
    }
    assert!(
        wrong_data.is_empty(),
        "{mix}: data differs from llama-quantize's for {wrong_data:?}"
    );

    // Metadata: everything kept, file type and quantization version set.
    assert_eq!(dst.metadata().len(), src.metadata().len());
    for (key, value) in src.metadata() {
        let got = dst.get(key).unwrap_or_else(|| panic!("{key} lost"));
        match key.as_str() {
            "general.file_type" => assert_eq!(got, &Value::U32(file_type)),
            "general.quantization_version" => assert_eq!(got, &Value::U32(2)),
            _ => assert_eq!(got, value, "{key}"),
        }
    }
}

#[test]
fn smollm2_to_q4_0() {
    smollm2_like_llama_quantize("q4_0", 2);
}

#[test]
fn smollm2_to_q8_0() {
    smollm2_like_llama_quantize("q8_0", 7);
}

#[test]
fn smollm2_to_q4_k_m() {
    smollm2_like_llama_quantize("q4_k_m", 15);
}

#[test]
fn refuses_to_requantize_without_the_flag() {
    let Some(input) = model("smollm2") else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out.gguf");
    let line = clean_error(&quantize(&input, &out, &["q4_k_m"]));
    assert!(line.contains("already quantized"), "{line}");
    assert!(line.contains("--allow-requantize"), "{line}");
    assert!(entries(dir.path()).is_empty(), "{:?}", entries(dir.path()));
}

#[test]
fn tiny_f32_model_needs_no_flag_and_follows_the_rules() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("tiny.gguf");
    tiny_f32_model(&input);
    let out = dir.path().join("tiny-q4_k_m.gguf");
    ok(&quantize(&input, &out, &["Q4_K_M"]));
    let dst = GgufFile::open(&out).unwrap();
    // One layer: llama.cpp's use_more_bits(0, 1) holds (0 >= 7*1/8), so attn_v and
    // ffn_down get q6_K; output.weight gets q6_K; untied token_embd the default q4_K.
    let expect = [
        ("token_embd.weight", GgmlType::Q4_K),
        ("blk.0.attn_norm.weight", GgmlType::F32),
        ("blk.0.attn_q.weight", GgmlType::Q4_K),
        ("blk.0.attn_k.weight", GgmlType::Q4_K),
        ("blk.0.attn_v.weight", GgmlType::Q6_K),
        ("blk.0.attn_output.weight", GgmlType::Q4_K),
        ("blk.0.ffn_down.weight", GgmlType::Q6_K),
        ("blk.0.ffn_gate.weight", GgmlType::Q4_K),
        ("blk.0.ffn_up.weight", GgmlType::Q4_K),
        ("output_norm.weight", GgmlType::F32),
        ("output.weight", GgmlType::Q6_K),
    ];
    for (name, ty) in expect {
        assert_eq!(dst.tensor(name).unwrap().ggml_type, ty, "{name}");
    }
    assert_eq!(dst.get("general.file_type"), Some(&Value::U32(15)));
    assert_eq!(
        dst.get("general.quantization_version"),
        Some(&Value::U32(2))
    );
    // Copied tensors are byte-identical.
    let src = GgufFile::open(&input).unwrap();
    let norm = src.tensor("output_norm.weight").unwrap();
    assert_eq!(
        dst.tensor_data(dst.tensor("output_norm.weight").unwrap()),
        src.tensor_data(norm)
    );
}

#[test]
fn q8_0_output_decodes_close_to_the_input() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("tiny.gguf");
    tiny_f32_model(&input);
    let out = dir.path().join("tiny-q8_0.gguf");
    ok(&quantize(&input, &out, &["q8_0", "--threads", "3"]));
    let (src, dst) = (
        GgufFile::open(&input).unwrap(),
        GgufFile::open(&out).unwrap(),
    );
    let t = dst.tensor("blk.0.attn_q.weight").unwrap();
    assert_eq!(t.ggml_type, GgmlType::Q8_0);
    let n = t.n_elements() as usize;
    let mut a = vec![0f32; n];
    let mut b = vec![0f32; n];
    let s = src.tensor("blk.0.attn_q.weight").unwrap();
    edge_quant::dequantize(GgmlType::F32, src.tensor_data(s), &mut a).unwrap();
    edge_quant::dequantize(GgmlType::Q8_0, dst.tensor_data(t), &mut b).unwrap();
    // q8_0 keeps 8 bits per value on a per-block scale: |error| <= max|x| / 127 / 2 ≈ 4e-4.
    let worst = a
        .iter()
        .zip(&b)
        .map(|(x, y)| (x - y).abs())
        .fold(0f32, f32::max);
    assert!(worst < 5e-4, "max error {worst}");
}

#[test]
fn bad_type_fails_before_creating_anything() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("tiny.gguf");
    tiny_f32_model(&input);
    let out = dir.path().join("out.gguf");
    let line = clean_error(&quantize(&input, &out, &["q4_k_x"]));
    assert!(line.contains("q4_k_x") && line.contains("q4_k_m"), "{line}");
    let line = clean_error(&quantize(&input, &out, &["q8_k"]));
    assert!(line.contains("intermediate"), "{line}");
    let line = clean_error(&quantize(&input, &out, &["iq2_xxs"]));
    assert!(line.contains("not supported"), "{line}");
    assert_eq!(entries(dir.path()), ["tiny.gguf"]);
}

#[test]
fn output_equal_to_input_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("tiny.gguf");
    tiny_f32_model(&input);
    let before = std::fs::read(&input).unwrap();
    let same = dir.path().join(".").join("tiny.gguf");
    let line = clean_error(&quantize(&input, &same, &["q8_0"]));
    assert!(line.contains("input"), "{line}");
    // A hard link is the same file too.
    let link = dir.path().join("link.gguf");
    std::fs::hard_link(&input, &link).unwrap();
    clean_error(&quantize(&input, &link, &["q8_0"]));
    assert_eq!(std::fs::read(&input).unwrap(), before);
    assert_eq!(entries(dir.path()), ["link.gguf", "tiny.gguf"]);
}

#[test]
fn unusable_paths_fail_cleanly() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("tiny.gguf");
    tiny_f32_model(&input);
    // Output in a missing directory, or a directory itself.
    clean_error(&quantize(
        &input,
        &dir.path().join("no/such/out.gguf"),
        &["q8_0"],
    ));
    clean_error(&quantize(&input, dir.path(), &["q8_0"]));
    // Missing or broken input.
    let out = dir.path().join("out.gguf");
    let line = clean_error(&quantize(&dir.path().join("missing.gguf"), &out, &["q8_0"]));
    assert!(line.contains("missing.gguf"), "{line}");
    let junk = dir.path().join("junk.gguf");
    std::fs::write(&junk, b"GGUF\x03\0\0\0junk").unwrap();
    let line = clean_error(&quantize(&junk, &out, &["q8_0"]));
    assert!(line.contains("junk.gguf"), "{line}");
    assert_eq!(entries(dir.path()), ["junk.gguf", "tiny.gguf"]);
}

#[cfg(unix)]
#[test]
fn read_only_output_directory_fails_cleanly() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("tiny.gguf");
    tiny_f32_model(&input);
    let ro = dir.path().join("ro");
    std::fs::create_dir(&ro).unwrap();
    std::fs::set_permissions(&ro, std::fs::Permissions::from_mode(0o555)).unwrap();
    // root ignores directory permissions; only check when the directory is really read-only.
    if std::fs::write(ro.join("probe"), b"").is_ok() {
        eprintln!("skipping: running with permission to write into read-only directories");
        return;
    }
    let line = clean_error(&quantize(&input, &ro.join("out.gguf"), &["q8_0"]));
    assert!(line.contains("out.gguf"), "{line}");
}

#[test]
fn zero_threads_is_a_usage_error() {
    let o = edge_run(["quantize", "a.gguf", "b.gguf", "q8_0", "-t", "0"]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
}

//! Running the `edge-run` binary as a real process, and checking how it fails.
#![allow(dead_code)] // each test file uses its own subset

use edge_formats::{GgmlType, GgufFileWriter, TensorSpec, Value};
use std::path::Path;
use std::process::{Command, Output};

/// Runs `edge-run` with `args`.
pub fn edge_run<I, S>(args: I) -> Output
where
    I: IntoIterator<Item = S>,
    S: AsRef<std::ffi::OsStr>,
{
    Command::new(env!("CARGO_BIN_EXE_edge-run"))
        .args(args)
        .output()
        .expect("cannot start edge-run")
}

pub fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

pub fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// Asserts success and returns stdout.
pub fn ok(o: &Output) -> String {
    assert!(
        o.status.success(),
        "edge-run failed ({:?}): {}",
        o.status,
        stderr(o)
    );
    stdout(o)
}

/// Asserts the failure form every user error must have: exit code 1, and on stderr exactly
/// one line starting `error:`, with no panic or backtrace. Returns that line.
pub fn clean_error(o: &Output) -> String {
    let err = stderr(o);
    assert_eq!(o.status.code(), Some(1), "exit code; stderr: {err}");
    assert!(!err.contains("panicked"), "panic: {err}");
    assert!(!err.contains("backtrace"), "backtrace: {err}");
    let lines: Vec<&str> = err.lines().collect();
    assert_eq!(lines.len(), 1, "want one line, got: {err}");
    assert!(lines[0].starts_with("error: "), "{err}");
    lines[0].to_string()
}

/// Writes a tiny llama-shaped f32 model: embeddings, one layer, norms, output.
pub fn tiny_f32_model(path: &Path) {
    let embd = 256u64;
    let tensors: Vec<(&str, Vec<u64>)> = vec![
        ("token_embd.weight", vec![embd, 64]),
        ("blk.0.attn_norm.weight", vec![embd]),
        ("blk.0.attn_q.weight", vec![embd, embd]),
        ("blk.0.attn_k.weight", vec![embd, 64]),
        ("blk.0.attn_v.weight", vec![embd, 64]),
        ("blk.0.attn_output.weight", vec![embd, embd]),
        ("blk.0.ffn_down.weight", vec![512, embd]),
        ("blk.0.ffn_gate.weight", vec![embd, 512]),
        ("blk.0.ffn_up.weight", vec![embd, 512]),
        ("output_norm.weight", vec![embd]),
        ("output.weight", vec![embd, 64]),
    ];
    let metadata: Vec<(String, Value)> = vec![
        ("general.architecture".into(), Value::from("llama")),
        ("general.name".into(), Value::from("tiny")),
        ("llama.block_count".into(), Value::U32(1)),
        ("llama.attention.head_count".into(), Value::U32(4)),
        ("llama.attention.head_count_kv".into(), Value::U32(1)),
    ];
    let specs: Vec<TensorSpec> = tensors
        .iter()
        .map(|(n, d)| TensorSpec::new(*n, d.clone(), GgmlType::F32))
        .collect();
    let mut w = GgufFileWriter::new(path, &metadata, &specs).unwrap();
    for (i, (name, dims)) in tensors.iter().enumerate() {
        let n: u64 = dims.iter().product();
        // A smooth deterministic pattern, different per tensor.
        let bytes: Vec<u8> = (0..n)
            .flat_map(|j| (((j as f32) * 0.37 + i as f32).sin() * 0.1).to_le_bytes())
            .collect();
        w.write_tensor(name, &bytes).unwrap();
    }
    w.commit().unwrap();
}

/// `shared/reference` beside the repository; `None` (after a message) when absent, a
/// failure under `EDGE_CI=1`.
pub fn reference_dir() -> Option<std::path::PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/reference");
    if dir.is_dir() {
        return Some(dir);
    }
    assert!(
        !edge_tests::strict(),
        "reference directory {} missing (EDGE_CI=1)",
        dir.display()
    );
    eprintln!("skipping: {} not found", dir.display());
    None
}

/// llama.cpp's reference outputs for test model `key`.
pub fn llama_cpp_reference(key: &str) -> Option<serde_json::Value> {
    let path = reference_dir()?.join(format!("llama.cpp/{key}.json"));
    let bytes = std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    Some(serde_json::from_slice(&bytes).expect("reference JSON"))
}

//! Shared helpers of the end-to-end tests: where the test models, golden files and the shared
//! reference outputs are, and how a test behaves when one of them is absent.
//!
//! A test that needs a model calls [`model`]: when the model is not in the cache the test is
//! skipped with a message on stderr — except under `EDGE_CI=1` (set by the project's test
//! command), where a missing model is a failure, so CI can never pass by skipping.

pub mod reference;

use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

/// The test models, by the short names the golden files use.
pub const MODELS: [(&str, &str); 2] = [
    ("smollm2", "SmolLM2-135M-Instruct.Q4_1.gguf"),
    ("gemma3", "gemma-3-270m-q4_k_m.gguf"),
];

/// True when running under the project's test command (`EDGE_CI=1`).
pub fn strict() -> bool {
    std::env::var("EDGE_CI").is_ok_and(|v| v == "1")
}

/// The model cache: `$EDGE_MODELS`, else `~/.cache/edge/models`.
pub fn models_dir() -> PathBuf {
    if let Some(dir) = std::env::var_os("EDGE_MODELS") {
        return PathBuf::from(dir);
    }
    let home = std::env::var_os("HOME").unwrap_or_default();
    Path::new(&home).join(".cache/edge/models")
}

/// Path of the test model `key` (`"smollm2"` or `"gemma3"`), or `None` (after a message) when
/// it is not cached and we are not strict.
///
/// # Panics
/// When the model is absent under `EDGE_CI=1`, or `key` is not a test model.
pub fn model(key: &str) -> Option<PathBuf> {
    let file = MODELS
        .iter()
        .find(|(k, _)| *k == key)
        .map(|(_, f)| *f)
        .unwrap_or_else(|| panic!("no test model called {key}"));
    let path = models_dir().join(file);
    if path.is_file() {
        return Some(path);
    }
    assert!(
        !strict(),
        "test model {} missing (EDGE_CI=1): run scripts/fetch-models.sh",
        path.display()
    );
    eprintln!(
        "skipping: {} not found; run scripts/fetch-models.sh",
        path.display()
    );
    None
}

/// The directory of golden files (`tests/golden`).
pub fn golden_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("golden")
}

/// The names (without `.json`) of the JSON goldens in `golden/<dir>`, sorted: for the tests
/// that check every golden has a test.
pub fn golden_names(dir: &str) -> Vec<String> {
    let dir = golden_dir().join(dir);
    let mut names: Vec<String> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .filter_map(|e| {
            let name = e.ok()?.file_name().into_string().ok()?;
            name.strip_suffix(".json").map(String::from)
        })
        .collect();
    names.sort();
    names
}

/// Reads a golden file, panicking with its path when it cannot.
pub fn read_golden(rel: &str) -> Vec<u8> {
    let path = golden_dir().join(rel);
    std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// Reads a golden JSON file.
pub fn golden_json(rel: &str) -> serde_json::Value {
    serde_json::from_slice(&read_golden(rel)).unwrap_or_else(|e| panic!("{rel}: {e}"))
}

/// Little-endian f32 values from raw bytes.
pub fn f32s(bytes: &[u8]) -> Vec<f32> {
    bytes
        .chunks_exact(4)
        .map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]]))
        .collect()
}

/// Hex sha256 of f32 values laid out little-endian (how the golden scripts hash arrays).
pub fn sha256_f32(values: &[f32]) -> String {
    let mut h = Sha256::new();
    for v in values {
        h.update(v.to_le_bytes());
    }
    hex(&h.finalize())
}

/// Hex sha256 of bytes.
pub fn sha256_bytes(bytes: &[u8]) -> String {
    hex(&Sha256::digest(bytes))
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

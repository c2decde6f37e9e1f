//! Helpers shared by the FFI tests.

use std::path::PathBuf;

/// The cached SmolLM2 model, or `None` (the test skips) when it is not cached; with
/// `EDGE_CI` set a missing model is a failure.
pub fn smollm2_path() -> Option<PathBuf> {
    let dir = std::env::var_os("EDGE_MODELS")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            PathBuf::from(std::env::var_os("HOME").unwrap_or_default()).join(".cache/edge/models")
        });
    let path = dir.join("SmolLM2-135M-Instruct.Q4_1.gguf");
    if path.is_file() {
        return Some(path);
    }
    assert!(
        std::env::var_os("EDGE_CI").is_none(),
        "{} is missing (scripts/fetch-models.sh smollm2)",
        path.display()
    );
    eprintln!("skipped: {} is not cached", path.display());
    None
}

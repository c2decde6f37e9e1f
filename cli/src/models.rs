//! Finding and loading the model to run.

use anyhow::{bail, Result};
use clap::Args;
use edge_runtime::llm::{Device, LoadParams, Model};
use std::path::{Path, PathBuf};
use std::time::Instant;

/// The model used when none is named.
pub const DEFAULT_MODEL: &str = "SmolLM2-135M-Instruct.Q4_1.gguf";

/// The model cache: `$EDGE_MODELS`, else `~/.cache/edge/models`.
pub fn models_dir() -> PathBuf {
    if let Some(dir) = std::env::var_os("EDGE_MODELS") {
        return PathBuf::from(dir);
    }
    let home = std::env::var_os("HOME").unwrap_or_default();
    Path::new(&home).join(".cache/edge/models")
}

/// `model`, or the default model when `None`; an error saying how to get the default one
/// when it is not there.
pub fn resolve(model: Option<&Path>) -> Result<PathBuf> {
    if let Some(m) = model {
        return Ok(m.to_owned());
    }
    let path = models_dir().join(DEFAULT_MODEL);
    if !path.is_file() {
        bail!(
            "no model given and the default model {} is missing; get it with `scripts/fetch-models.sh smollm2` (or name a GGUF file: edge-run MODEL -p TEXT)",
            path.display()
        );
    }
    Ok(path)
}

/// How to bring the weights into memory.
#[derive(Debug, Args, Clone, Copy, Default)]
pub struct LoadArgs {
    /// Read the model into memory instead of mapping it: slower to load, faster to
    /// decode (huge pages where the OS offers them)
    #[arg(long)]
    pub no_mmap: bool,
}

/// Loads `path` on the CPU with `threads` threads (0: all cores); returns the model and
/// the milliseconds it took.
pub fn load(path: &Path, threads: usize, how: LoadArgs) -> Result<(Model, f64)> {
    if path.is_dir() {
        bail!("{}: is a directory, not a GGUF file", path.display());
    }
    let start = Instant::now();
    let params = LoadParams {
        threads,
        device: Device::Cpu,
        mmap: !how.no_mmap,
    };
    let model =
        Model::load(path, &params).map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?;
    Ok((model, start.elapsed().as_secs_f64() * 1000.0))
}

/// Peak resident memory of this process in bytes (`VmHWM`), where the OS tells it.
pub fn peak_rss_bytes() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kib: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib * 1024)
}

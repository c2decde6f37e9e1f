//! Opening model files with errors fit for a terminal: one line naming the path.

use anyhow::{bail, Result};
use edge_formats::{GgufError, GgufFile};
use std::path::Path;

/// Opens and validates a GGUF file. Errors read `<path>: <problem>`.
pub fn open(path: &Path) -> Result<GgufFile> {
    let shown = path.display();
    // A directory opens fine on Unix and then fails to map with a puzzling errno.
    if path.is_dir() {
        bail!("{shown}: is a directory, not a GGUF file");
    }
    GgufFile::open(path).map_err(|e| match e {
        // The I/O error already says "opening <path>"; keep the line short.
        GgufError::Io { source, .. } => anyhow::anyhow!("{shown}: {source}"),
        other => anyhow::anyhow!("{shown}: {other}"),
    })
}

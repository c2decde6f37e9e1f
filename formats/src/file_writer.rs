//! [`GgufFileWriter`]: writes a GGUF file so that nothing partial ever appears at its path.

use std::io::BufWriter;
use std::path::{Path, PathBuf};

use tempfile::NamedTempFile;

use crate::error::GgufError;
use crate::tensor::TensorSpec;
use crate::value::Value;
use crate::writer::GgufWriter;

/// A GGUF file being written to `path`. The bytes go to a temporary file in the same
/// directory (so the final rename stays on one file system); [`commit`](Self::commit)
/// flushes, fsyncs and renames it onto `path`. Dropped without `commit`, or after an error,
/// the temporary file is removed: a reader of `path` sees either the old file or the
/// complete new one.
pub struct GgufFileWriter {
    path: PathBuf,
    writer: GgufWriter<BufWriter<NamedTempFile>>,
}

impl std::fmt::Debug for GgufFileWriter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GgufFileWriter")
            .field("path", &self.path)
            .field("writer", &self.writer)
            .finish()
    }
}

impl GgufFileWriter {
    /// Starts writing `path`: creates the temporary file and writes header, metadata and
    /// tensor infos (see [`GgufWriter::new`]).
    pub fn new(
        path: impl AsRef<Path>,
        metadata: &[(String, Value)],
        tensors: &[TensorSpec],
    ) -> Result<Self, GgufError> {
        let path = path.as_ref().to_path_buf();
        let io_error = |what: &str| {
            let what = format!("{what} {}", path.display());
            move |source| GgufError::Io { what, source }
        };
        let dir = parent_dir(&path);
        let file_name = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let prefix = format!(".{file_name}.");
        let mut builder = tempfile::Builder::new();
        builder.prefix(&prefix).suffix(".partial");
        #[cfg(unix)]
        {
            // tempfile's default of 0600 would stick to the model after the rename; ask for
            // what File::create gives (0666 minus the umask).
            use std::os::unix::fs::PermissionsExt;
            builder.permissions(std::fs::Permissions::from_mode(0o666));
        }
        let temp = builder
            .tempfile_in(dir)
            .map_err(io_error("creating a temporary file for"))?;
        let writer = GgufWriter::new(BufWriter::with_capacity(1 << 20, temp), metadata, tensors)?;
        Ok(GgufFileWriter { path, writer })
    }

    /// Writes the next tensor's data (see [`GgufWriter::write_tensor`]).
    pub fn write_tensor(&mut self, name: &str, data: &[u8]) -> Result<(), GgufError> {
        self.writer.write_tensor(name, data)
    }

    /// Checks every tensor was written, flushes and fsyncs the file, renames it onto the
    /// final path and fsyncs the directory so that the rename survives a crash.
    pub fn commit(self) -> Result<(), GgufError> {
        let path = self.path;
        let io_error = |what: &str| {
            let what = format!("{what} {}", path.display());
            move |source| GgufError::Io { what, source }
        };
        let buffered = self.writer.finish()?;
        let temp = buffered
            .into_inner()
            .map_err(|e| e.into_error())
            .map_err(io_error("flushing"))?;
        temp.as_file().sync_all().map_err(io_error("syncing"))?;
        temp.persist(&path)
            .map_err(|e| e.error)
            .map_err(io_error("renaming the temporary file onto"))?;
        sync_dir(parent_dir(&path)).map_err(io_error("syncing the directory of"))?;
        Ok(())
    }
}

fn parent_dir(path: &Path) -> &Path {
    match path.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir,
        _ => Path::new("."),
    }
}

#[cfg(unix)]
fn sync_dir(dir: &Path) -> std::io::Result<()> {
    std::fs::File::open(dir)?.sync_all()
}

#[cfg(not(unix))]
fn sync_dir(_dir: &Path) -> std::io::Result<()> {
    // Directories cannot be opened for syncing on Windows; NTFS journals the rename.
    Ok(())
}

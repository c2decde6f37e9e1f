//! [`GgufWriter`]: streams a GGUF file to any `Write`, one tensor at a time, so that a
//! model is never held in memory whole.

use std::io::Write;

use crate::encode::{encode_header, PlannedTensor};
use crate::error::GgufError;
use crate::parse::align_up;
use crate::tensor::TensorSpec;
use crate::value::Value;

/// Writes a GGUF v3 file: header, metadata and tensor infos at construction, then each
/// tensor's data in the order the tensors were given, padded with zeros to the alignment.
///
/// After an error from `write_tensor` the output may hold a partial tensor; discard it
/// ([`GgufFileWriter`](crate::GgufFileWriter) does so by itself).
pub struct GgufWriter<W: Write> {
    out: W,
    alignment: u64,
    /// Bytes written so far, to compute padding.
    position: u64,
    tensors: Vec<PlannedTensor>,
    /// Index in `tensors` of the next tensor whose data is due.
    next: usize,
}

impl<W: Write> std::fmt::Debug for GgufWriter<W> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GgufWriter")
            .field("alignment", &self.alignment)
            .field("position", &self.position)
            .field("tensors", &self.tensors.len())
            .field("next", &self.next)
            .finish()
    }
}

impl<W: Write> GgufWriter<W> {
    /// Writes the header, all metadata and all tensor infos. Tensor offsets are computed
    /// from `tensors`; the alignment is `general.alignment` from `metadata` if present,
    /// else 32. Rejects what the reader would reject: duplicate keys or tensor names, a
    /// bad `general.alignment`, arrays nested too deep, invalid tensor shapes.
    pub fn new(
        mut out: W,
        metadata: &[(String, Value)],
        tensors: &[TensorSpec],
    ) -> Result<Self, GgufError> {
        let header = encode_header(metadata, tensors)?;
        out.write_all(&header.bytes)
            .map_err(io("writing the GGUF header"))?;
        Ok(GgufWriter {
            out,
            alignment: header.alignment,
            position: header.bytes.len() as u64,
            tensors: header.tensors,
            next: 0,
        })
    }

    /// Writes the data of tensor `name`, which must be the next one in the order given to
    /// [`new`](Self::new); `data.len()` must be the tensor's exact byte size.
    pub fn write_tensor(&mut self, name: &str, data: &[u8]) -> Result<(), GgufError> {
        let Some(planned) = self.tensors.get(self.next) else {
            return Err(GgufError::TensorOrder {
                expected: None,
                got: name.to_string(),
            });
        };
        if planned.name != name {
            return Err(GgufError::TensorOrder {
                expected: Some(planned.name.clone()),
                got: name.to_string(),
            });
        }
        if data.len() as u64 != planned.n_bytes {
            return Err(GgufError::TensorSizeMismatch {
                tensor: name.to_string(),
                expected: planned.n_bytes,
                got: data.len() as u64,
            });
        }
        self.out
            .write_all(data)
            .map_err(io("writing tensor data"))?;
        self.position += data.len() as u64;
        // Padding after every tensor, the last included, as llama.cpp writes it.
        self.pad()?;
        self.next += 1;
        Ok(())
    }

    /// Checks that every tensor was written, flushes, and returns the output.
    pub fn finish(mut self) -> Result<W, GgufError> {
        if let Some(missing) = self.tensors.get(self.next) {
            return Err(GgufError::MissingTensorData {
                tensor: missing.name.clone(),
            });
        }
        self.out.flush().map_err(io("flushing the GGUF output"))?;
        Ok(self.out)
    }

    /// The alignment used for the data section and tensor offsets.
    pub fn alignment(&self) -> u64 {
        self.alignment
    }

    fn pad(&mut self) -> Result<(), GgufError> {
        const ZEROS: [u8; 256] = [0; 256];
        let target = align_up(self.position, self.alignment).unwrap_or(self.position);
        let mut missing = target - self.position;
        while missing > 0 {
            let n = missing.min(ZEROS.len() as u64);
            // n ≤ 256, so the slice bound holds.
            let chunk = ZEROS.get(..n as usize).unwrap_or(&ZEROS);
            self.out.write_all(chunk).map_err(io("writing padding"))?;
            self.position += n;
            missing -= n;
        }
        Ok(())
    }
}

fn io(what: &'static str) -> impl FnOnce(std::io::Error) -> GgufError {
    move |source| GgufError::Io {
        what: what.to_string(),
        source,
    }
}

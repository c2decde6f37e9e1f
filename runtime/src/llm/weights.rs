//! The weights of a model: quantized matrices left in the memory-mapped file, and the few
//! small vectors (norm scales) that are converted to f32 once at load.

use edge_formats::{GgufFile, TensorInfo};
use edge_kernels::{KernelError, QuantMatrix};

use super::LlmError;

/// A weight matrix `y = W·x` with `rows` outputs and `cols` inputs, stored in the file in
/// its own quantized type. Only its description is kept; the bytes are borrowed from the
/// map on each use.
#[derive(Clone, Debug)]
pub(crate) struct Linear {
    info: TensorInfo,
    rows: usize,
    cols: usize,
}

impl Linear {
    /// Finds tensor `name` of shape `[cols, rows]` and checks that the CPU kernels can
    /// multiply by it, so that an unsupported type fails at load, not at the first token.
    pub(crate) fn load(
        file: &GgufFile,
        name: &str,
        cols: usize,
        rows: usize,
    ) -> Result<Linear, LlmError> {
        let info = find(file, name, &[cols, rows])?;
        let linear = Linear {
            info: info.clone(),
            rows,
            cols,
        };
        linear.matrix(file)?;
        Ok(linear)
    }

    /// The matrix over the file's bytes. `file` must be the file this was loaded from.
    pub(crate) fn matrix<'f>(&self, file: &'f GgufFile) -> Result<QuantMatrix<'f>, LlmError> {
        QuantMatrix::new(
            self.info.ggml_type,
            self.rows,
            self.cols,
            file.tensor_data(&self.info),
        )
        .map_err(|e| match e {
            KernelError::Unsupported { ty, .. } => LlmError::UnsupportedTensorType {
                name: self.info.name.clone(),
                ty,
            },
            e => LlmError::Kernel(e),
        })
    }
}

/// A table of `rows` vectors of `cols` elements (the token embedding), dequantized one row
/// at a time on lookup.
#[derive(Clone, Debug)]
pub(crate) struct Embedding {
    info: TensorInfo,
    rows: usize,
    cols: usize,
    row_bytes: usize,
}

impl Embedding {
    /// Finds tensor `name` of shape `[cols, rows]` and checks its type can be dequantized.
    pub(crate) fn load(
        file: &GgufFile,
        name: &str,
        cols: usize,
        rows: usize,
    ) -> Result<Embedding, LlmError> {
        let info = find(file, name, &[cols, rows])?;
        let ty = info.ggml_type;
        let unsupported = || LlmError::UnsupportedTensorType {
            name: name.to_owned(),
            ty,
        };
        if !edge_quant::can_dequantize(ty) {
            return Err(unsupported());
        }
        // `find` checked the shape, and the reader checked the row is whole blocks.
        let row_bytes = usize::try_from(ty.bytes_for(cols as u64).ok_or_else(unsupported)?)
            .map_err(|_| unsupported())?;
        Ok(Embedding {
            info: info.clone(),
            rows,
            cols,
            row_bytes,
        })
    }

    /// Writes row `row` as f32 into `out` (length `cols`).
    pub(crate) fn row(&self, file: &GgufFile, row: usize, out: &mut [f32]) -> Result<(), LlmError> {
        let data = file.tensor_data(&self.info);
        let bytes = row
            .checked_mul(self.row_bytes)
            .and_then(|start| data.get(start..start.checked_add(self.row_bytes)?))
            .filter(|_| row < self.rows && out.len() == self.cols)
            .ok_or(LlmError::Kernel(KernelError::BadLength {
                what: "embedding row",
                expected: self.cols,
                found: out.len(),
                unit: "elements",
            }))?;
        edge_quant::dequantize(self.info.ggml_type, bytes, out).map_err(|_| {
            LlmError::UnsupportedTensorType {
                name: self.info.name.clone(),
                ty: self.info.ggml_type,
            }
        })
    }

    /// The same tensor viewed as a matrix (for an output projection tied to the embedding).
    pub(crate) fn as_linear(&self, file: &GgufFile) -> Result<Linear, LlmError> {
        let linear = Linear {
            info: self.info.clone(),
            rows: self.rows,
            cols: self.cols,
        };
        linear.matrix(file)?;
        Ok(linear)
    }
}

/// Reads the vector tensor `name` of length `len` (a norm's scale) as f32.
pub(crate) fn vector(file: &GgufFile, name: &str, len: usize) -> Result<Vec<f32>, LlmError> {
    let info = find(file, name, &[len])?;
    let mut out = vec![0.0; len];
    edge_quant::dequantize(info.ggml_type, file.tensor_data(info), &mut out).map_err(|_| {
        LlmError::UnsupportedTensorType {
            name: name.to_owned(),
            ty: info.ggml_type,
        }
    })?;
    Ok(out)
}

/// Tensor `name`, whose dimensions must be `dims` (ggml order; trailing 1s are ignored, as
/// llama.cpp does).
pub(crate) fn find<'f>(
    file: &'f GgufFile,
    name: &str,
    dims: &[usize],
) -> Result<&'f TensorInfo, LlmError> {
    let info = file.tensor(name).ok_or_else(|| LlmError::MissingTensor {
        name: name.to_owned(),
    })?;
    let expected: Vec<u64> = dims.iter().map(|&d| d as u64).collect();
    let mut found: &[u64] = &info.dims;
    while let [rest @ .., 1] = found {
        if rest.len() < expected.len() {
            break;
        }
        found = rest;
    }
    if found != expected.as_slice() {
        return Err(LlmError::TensorShape {
            name: name.to_owned(),
            expected,
            found: info.dims.clone(),
        });
    }
    Ok(info)
}

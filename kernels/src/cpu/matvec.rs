//! Matrix-vector product with a quantized weight matrix: `y = W·x`.

use super::activation::activation_type;
use super::dispatch::{blocks, row_blocks, KernelTable, VecDot};
use crate::KernelError;
use edge_formats::GgmlType;

/// A borrowed `rows × cols` weight matrix of one [`GgmlType`], row-major, in its raw
/// block encoding (e.g. a tensor's bytes from a memory-mapped GGUF file).
#[derive(Clone, Copy, Debug)]
pub struct QuantMatrix<'a> {
    ty: GgmlType,
    rows: usize,
    cols: usize,
    data: &'a [u8],
}

impl<'a> QuantMatrix<'a> {
    /// Checks that `data` is exactly `rows × cols` elements of `ty`, `cols` a whole
    /// number of blocks, and that this crate has kernels for `ty`.
    pub fn new(
        ty: GgmlType,
        rows: usize,
        cols: usize,
        data: &'a [u8],
    ) -> Result<Self, KernelError> {
        activation_type(ty).ok_or(KernelError::Unsupported { op: "matvec", ty })?;
        let row_bytes = row_blocks(ty, cols)? * ty.type_size();
        let expected = row_bytes
            .checked_mul(rows)
            .ok_or(KernelError::Overflow { rows, cols })?;
        if data.len() != expected {
            return Err(KernelError::BadLength {
                what: "weight matrix",
                expected,
                found: data.len(),
                unit: "bytes",
            });
        }
        Ok(Self {
            ty,
            rows,
            cols,
            data,
        })
    }

    /// The element type.
    pub fn ty(&self) -> GgmlType {
        self.ty
    }

    /// Number of rows (outputs).
    pub fn rows(&self) -> usize {
        self.rows
    }

    /// Number of columns (inputs).
    pub fn cols(&self) -> usize {
        self.cols
    }

    /// The raw bytes.
    pub fn data(&self) -> &'a [u8] {
        self.data
    }

    fn row_bytes(&self) -> usize {
        self.cols / self.ty.block_size() * self.ty.type_size()
    }
}

/// `y = W·x`: quantizes `x` once to the activation type of `w`, then computes each row's
/// dot product through `table`, splitting rows over `threads` scoped threads (`0` or `1`:
/// the calling thread only).
pub fn matvec(
    table: &KernelTable,
    w: &QuantMatrix<'_>,
    x: &[f32],
    y: &mut [f32],
    threads: usize,
) -> Result<(), KernelError> {
    if x.len() != w.cols {
        return Err(KernelError::BadLength {
            what: "matvec input x",
            expected: w.cols,
            found: x.len(),
            unit: "elements",
        });
    }
    if y.len() != w.rows {
        return Err(KernelError::BadLength {
            what: "matvec output y",
            expected: w.rows,
            found: y.len(),
            unit: "elements",
        });
    }
    let act_ty = activation_type(w.ty).ok_or(KernelError::Unsupported {
        op: "matvec",
        ty: w.ty,
    })?;
    let n_blocks = row_blocks(act_ty, w.cols)?;
    let mut act = vec![0u8; n_blocks * act_ty.type_size()];
    table.quantize_activation(w.ty, x, &mut act)?;
    match w.ty {
        GgmlType::Q4_0 => rows(table.vec_dot_q4_0_q8_0, w, &act, y, threads),
        GgmlType::Q4_1 => rows(table.vec_dot_q4_1_q8_1, w, &act, y, threads),
        GgmlType::Q5_0 => rows(table.vec_dot_q5_0_q8_0, w, &act, y, threads),
        GgmlType::Q5_1 => rows(table.vec_dot_q5_1_q8_1, w, &act, y, threads),
        GgmlType::Q8_0 => rows(table.vec_dot_q8_0_q8_0, w, &act, y, threads),
        GgmlType::Q2_K => rows(table.vec_dot_q2_k_q8_k, w, &act, y, threads),
        GgmlType::Q3_K => rows(table.vec_dot_q3_k_q8_k, w, &act, y, threads),
        GgmlType::Q4_K => rows(table.vec_dot_q4_k_q8_k, w, &act, y, threads),
        GgmlType::Q5_K => rows(table.vec_dot_q5_k_q8_k, w, &act, y, threads),
        GgmlType::Q6_K => rows(table.vec_dot_q6_k_q8_k, w, &act, y, threads),
        GgmlType::IQ4_NL => rows(table.vec_dot_iq4_nl_q8_0, w, &act, y, threads),
        GgmlType::IQ4_XS => rows(table.vec_dot_iq4_xs_q8_k, w, &act, y, threads),
        GgmlType::F16 => rows(table.vec_dot_f16, w, &act, y, threads),
        GgmlType::BF16 => rows(table.vec_dot_bf16, w, &act, y, threads),
        ty => Err(KernelError::Unsupported { op: "matvec", ty }),
    }
}

/// Runs `f` for every row, on up to `threads` threads.
fn rows<W: bytemuck::Pod + Sync, A: bytemuck::Pod + Sync>(
    f: VecDot<W, A>,
    w: &QuantMatrix<'_>,
    act: &[u8],
    y: &mut [f32],
    threads: usize,
) -> Result<(), KernelError> {
    let row_bytes = w.row_bytes();
    let n = row_bytes / size_of::<W>();
    let a: &[A] = blocks("quantized activation", act, n)?;
    let all: &[W] = blocks("weight matrix", w.data, n * w.rows)?;
    if n == 0 {
        y.fill(0.0);
        return Ok(());
    }
    let run = |ws: &[W], ys: &mut [f32]| {
        for (row, out) in ws.chunks_exact(n).zip(ys.iter_mut()) {
            // SAFETY: `f` comes from a table whose tier was checked against this CPU;
            // `row` and `a` both hold exactly `n` whole blocks.
            *out = unsafe { f(row, a) };
        }
    };
    let threads = threads.clamp(1, w.rows.max(1));
    if threads == 1 {
        run(all, y);
        return Ok(());
    }
    let per = w.rows.div_ceil(threads);
    std::thread::scope(|s| {
        for (ws, ys) in all.chunks(per * n).zip(y.chunks_mut(per)) {
            s.spawn(move || run(ws, ys));
        }
    });
    Ok(())
}

//! Products with a quantized weight matrix: [`matvec`] (`y = W·x`, one token) and
//! [`matmul`] (`Y = X·Wᵀ`, a batch of tokens reading each weight row once), both
//! spread over the threads of a [`Pool`].

use super::activation::activation_type;
use super::dispatch::{blocks, row_blocks, KernelTable, VecDot};
use super::pool::{Pool, SharedMut};
use crate::KernelError;
use edge_formats::GgmlType;
use std::cell::Cell;

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
/// dot product through `table`, spreading rows over the threads of `pool`.
///
/// The result does not depend on the number of threads, and equals [`matmul`] of the
/// same row bit for bit. Nothing is allocated per call once the calling thread has
/// quantized an activation row this large (the buffer is kept per thread).
pub fn matvec(
    table: &KernelTable,
    w: &QuantMatrix<'_>,
    x: &[f32],
    y: &mut [f32],
    pool: &Pool,
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
    product(table, w, x, 1, y, pool)
}

/// `ys = xs·Wᵀ` for a batch of activation rows, as for prompt processing: `xs` holds `n`
/// rows of `cols` values and `ys` receives `n` rows of `rows` values (row `t` of `ys` is
/// `W·xs[t]`). `n` is `xs.len() / cols` (`ys.len() / rows` when `cols` is 0).
///
/// All `n` rows are quantized once; then each weight row is multiplied with every
/// activation row while it is in cache, in tiles of a few weight rows by a few activation
/// rows, so the weights are read from memory once per batch instead of once per token.
/// Every output equals what [`matvec`] gives for that row, bit for bit.
pub fn matmul(
    table: &KernelTable,
    w: &QuantMatrix<'_>,
    xs: &[f32],
    ys: &mut [f32],
    pool: &Pool,
) -> Result<(), KernelError> {
    let n = match (w.cols, w.rows) {
        (0, 0) => 0,
        (0, rows) => ys.len() / rows,
        (cols, _) => xs.len() / cols,
    };
    let expected_x = n.checked_mul(w.cols).ok_or(KernelError::Overflow {
        rows: n,
        cols: w.cols,
    })?;
    if xs.len() != expected_x {
        return Err(KernelError::BadLength {
            what: "matmul input xs (n rows of cols)",
            expected: expected_x,
            found: xs.len(),
            unit: "elements",
        });
    }
    let expected_y = n.checked_mul(w.rows).ok_or(KernelError::Overflow {
        rows: n,
        cols: w.rows,
    })?;
    if ys.len() != expected_y {
        return Err(KernelError::BadLength {
            what: "matmul output ys (n rows of rows)",
            expected: expected_y,
            found: ys.len(),
            unit: "elements",
        });
    }
    product(table, w, xs, n, ys, pool)
}

thread_local! {
    /// Quantized activations of the calling thread's last product, kept to avoid an
    /// allocation per call. It holds as much as the largest batch quantized so far.
    static SCRATCH: Cell<Vec<u8>> = const { Cell::new(Vec::new()) };
}

/// Quantizes the `n` rows of `xs` and multiplies them with `w` into `ys`; lengths are
/// checked by the callers.
fn product(
    table: &KernelTable,
    w: &QuantMatrix<'_>,
    xs: &[f32],
    n: usize,
    ys: &mut [f32],
    pool: &Pool,
) -> Result<(), KernelError> {
    let act_ty = activation_type(w.ty).ok_or(KernelError::Unsupported {
        op: "matvec",
        ty: w.ty,
    })?;
    let act_row = row_blocks(act_ty, w.cols)? * act_ty.type_size();
    let act_len = act_row.checked_mul(n).ok_or(KernelError::Overflow {
        rows: n,
        cols: w.cols,
    })?;
    // Take the buffer out of the thread-local (a nested call finds it empty and
    // allocates its own) and put it back afterwards.
    let mut act = SCRATCH.take();
    if act.len() < act_len {
        act.resize(act_len, 0);
    }
    let result = quantize_and_multiply(table, w, xs, n, &mut act[..act_len], act_row, ys, pool);
    SCRATCH.set(act);
    result
}

#[allow(clippy::too_many_arguments)]
fn quantize_and_multiply(
    table: &KernelTable,
    w: &QuantMatrix<'_>,
    xs: &[f32],
    n: usize,
    act: &mut [u8],
    act_row: usize,
    ys: &mut [f32],
    pool: &Pool,
) -> Result<(), KernelError> {
    if w.cols > 0 && act_row > 0 {
        for (x, a) in xs.chunks_exact(w.cols).zip(act.chunks_exact_mut(act_row)) {
            table.quantize_activation(w.ty, x, a)?;
        }
    }
    let act = &*act;
    let p = Product { w, act, n, pool };
    match w.ty {
        GgmlType::Q4_0 => p.run(table.vec_dot_q4_0_q8_0, ys),
        GgmlType::Q4_1 => p.run(table.vec_dot_q4_1_q8_1, ys),
        GgmlType::Q5_0 => p.run(table.vec_dot_q5_0_q8_0, ys),
        GgmlType::Q5_1 => p.run(table.vec_dot_q5_1_q8_1, ys),
        GgmlType::Q8_0 => p.run(table.vec_dot_q8_0_q8_0, ys),
        GgmlType::Q2_K => p.run(table.vec_dot_q2_k_q8_k, ys),
        GgmlType::Q3_K => p.run(table.vec_dot_q3_k_q8_k, ys),
        GgmlType::Q4_K => p.run(table.vec_dot_q4_k_q8_k, ys),
        GgmlType::Q5_K => p.run(table.vec_dot_q5_k_q8_k, ys),
        GgmlType::Q6_K => p.run(table.vec_dot_q6_k_q8_k, ys),
        GgmlType::IQ4_NL => p.run(table.vec_dot_iq4_nl_q8_0, ys),
        GgmlType::IQ4_XS => p.run(table.vec_dot_iq4_xs_q8_k, ys),
        GgmlType::F16 => p.run(table.vec_dot_f16, ys),
        GgmlType::BF16 => p.run(table.vec_dot_bf16, ys),
        ty => Err(KernelError::Unsupported { op: "matvec", ty }),
    }
}

/// Weight rows per tile: each is multiplied with [`TILE_T`] activation rows in turn.
const TILE_R: usize = 4;
/// Activation rows per tile.
const TILE_T: usize = 8;
/// The least work worth a task of its own, in weight bytes × activation rows: about a
/// quarter of a microsecond, well above the cost of taking a task.
const MIN_TASK_WORK: usize = 8 << 10;

/// The operands of one product, once the activations are quantized.
struct Product<'a, 'w> {
    w: &'a QuantMatrix<'w>,
    /// `n` quantized activation rows.
    act: &'a [u8],
    n: usize,
    pool: &'a Pool,
}

impl Product<'_, '_> {
    /// `ys[t·rows + r] = f(W[r], act[t])` for every weight row `r` and activation row `t`,
    /// rows chunked over the pool's threads.
    fn run<W: bytemuck::Pod + Sync, A: bytemuck::Pod + Sync>(
        &self,
        f: VecDot<W, A>,
        ys: &mut [f32],
    ) -> Result<(), KernelError> {
        let (w, n) = (self.w, self.n);
        let row_bytes = w.row_bytes();
        let nb = row_bytes / size_of::<W>();
        let rows = w.rows;
        let acts: &[A] = blocks("quantized activation", self.act, nb * n)?;
        let all: &[W] = blocks("weight matrix", w.data, nb * rows)?;
        if nb == 0 {
            ys.fill(0.0);
            return Ok(());
        }
        if ys.len() != rows * n {
            return Err(KernelError::BadLength {
                what: "product output",
                expected: rows * n,
                found: ys.len(),
                unit: "elements",
            });
        }
        let chunk = rows_per_task(rows, n, row_bytes, self.pool.threads());
        let out = SharedMut::new(ys);
        self.pool.run(rows.div_ceil(chunk), |task| {
            let r_end = ((task + 1) * chunk).min(rows);
            for r0 in (task * chunk..r_end).step_by(TILE_R) {
                let r1 = (r0 + TILE_R).min(r_end);
                for t0 in (0..n).step_by(TILE_T) {
                    let t1 = (t0 + TILE_T).min(n);
                    for r in r0..r1 {
                        let row = &all[r * nb..(r + 1) * nb];
                        for t in t0..t1 {
                            let a = &acts[t * nb..(t + 1) * nb];
                            // SAFETY: `f` comes from a table whose tier was checked
                            // against this CPU; `row` and `a` both hold `nb` whole blocks.
                            let v = unsafe { f(row, a) };
                            // SAFETY: `t < n` and `r < rows`, so the index is inside
                            // `ys` (checked to hold `rows · n`); weight row `r` belongs
                            // to this task alone and the pool runs each task once, so no
                            // other thread touches this element.
                            unsafe { out.write(t * rows + r, v) };
                        }
                    }
                }
            }
        });
        Ok(())
    }
}

/// Weight rows per task: a multiple of [`TILE_R`], about four tasks per thread (so a
/// thread slowed by another process does not hold the others up), but no task smaller
/// than [`MIN_TASK_WORK`]. One task (all on the caller) for a single thread.
fn rows_per_task(rows: usize, n: usize, row_bytes: usize, threads: usize) -> usize {
    if threads <= 1 {
        return rows.max(1);
    }
    let work_per_row = row_bytes.saturating_mul(n).max(1);
    let min_rows = MIN_TASK_WORK.div_ceil(work_per_row);
    let chunk = min_rows.max(rows.div_ceil(threads * 4)).max(1);
    chunk.div_ceil(TILE_R).saturating_mul(TILE_R)
}

//! The engine behind [`matvec`](super::matvec), [`matmul`](super::matmul) and their
//! `_multi` forms: activation rows quantized once per activation type (in parallel for
//! a batch), then one dispatch to the pool whose tasks are row ranges of the weight
//! matrices. A batch takes the tile kernels of [`super::tile`] where the tier has them,
//! else the tier's single-row `vec_dot` per (row, activation) pair; every output is the
//! same on any number of threads. F32 weights take the activations as they are.

use super::activation::activation_type;
use super::dispatch::{blocks, row_blocks, KernelTable, VecDot};
use super::matvec::QuantMatrix;
use super::pool::{Pool, SharedMut};
use super::rows::RowsFn;
use super::tile::{
    self, prepare_row, unpacker, ActBuf, Acts, PanelBuf, RowMut, StripFn, TileFn, TileKernel,
    Unpack,
};
use crate::KernelError;
use edge_formats::GgmlType;
use std::cell::Cell;
use std::sync::Mutex;

/// Weight rows per row-by-row tile: each is multiplied with [`TILE_T`] activation rows
/// in turn (and every task's row count is a multiple of it).
const TILE_R: usize = tile::R;
/// Activation rows per row-by-row tile.
const TILE_T: usize = 8;
/// Weight rows per call of a row kernel when several activation rows share them (so the
/// rows stay in cache while each activation row passes).
const ROWS_TILE: usize = 64;
/// The least work worth a task of its own, in weight bytes × activation rows: about a
/// quarter of a microsecond, well above the cost of taking a task.
const MIN_TASK_WORK: usize = 8 << 10;
/// The smallest batch that takes the tile kernels (a smaller one would not repay
/// unpacking the weights).
pub(crate) const TILE_MIN_N: usize = 4;
/// The smallest batch whose activation rows are quantized on the pool.
const PARALLEL_QUANTIZE_N: usize = 8;

/// The activation types, as indices into [`Scratch`].
const ACT_TYPES: [GgmlType; N_ACT] = [
    GgmlType::Q8_0,
    GgmlType::Q8_1,
    GgmlType::Q8_K,
    GgmlType::F16,
    GgmlType::BF16,
    GgmlType::F32,
];
/// How many activation types there are.
const N_ACT: usize = 6;

fn act_index(act: GgmlType) -> Option<usize> {
    ACT_TYPES.iter().position(|&a| a == act)
}

/// Quantized (and, for tiles, prepared) activations of one call, per activation type.
#[derive(Default)]
struct Scratch {
    raw: [Vec<u8>; N_ACT],
    prep: [ActBuf; N_ACT],
}

thread_local! {
    /// The calling thread's activation buffers, kept to avoid allocations per call.
    static SCRATCH: Cell<Scratch> = Cell::new(Scratch::default());
    /// A task's unpacked weight panels.
    static PANELS: Cell<PanelBuf> = Cell::new(PanelBuf::default());
}

/// What one activation type needs this call.
#[derive(Clone, Copy, Default)]
struct ActPlan {
    /// A weight type that uses it (what `quantize_activation` is asked for).
    weight: Option<GgmlType>,
    /// Bytes per quantized row.
    row: usize,
    /// Blocks per row.
    nb: usize,
    /// Whether a tile job reads the prepared form.
    prepare: bool,
}

/// How a batch is tiled.
#[derive(Clone, Copy)]
enum Tiled {
    /// The portable panels of [`tile`] and a tier's tile kernel.
    Panels(TileFn, &'static Unpack),
    /// A tier's own strip kernel, taking weight rows `align` at a time.
    Strip(StripFn, usize),
}

/// Whether a product of `w` with `n` activation rows takes the tile kernels.
fn tile_of(table: &KernelTable, w: &QuantMatrix<'_>, n: usize) -> Option<Tiled> {
    if n < TILE_MIN_N || w.cols() == 0 {
        return None;
    }
    match table.tiles.get(w.ty())? {
        TileKernel::Panels(f) => Some(Tiled::Panels(f, unpacker(w.ty())?)),
        TileKernel::Strip { f, align } => Some(Tiled::Strip(f, align)),
    }
}

/// `ys[i] = xs·Ws[i]ᵀ` for `n` activation rows of `ws[0].cols()` values; every length
/// was checked by the caller (all matrices have that many columns, `ys[i]` holds
/// `n × ws[i].rows()`). `tiles: false` keeps to the row-by-row path.
pub(crate) fn products(
    table: &KernelTable,
    ws: &[QuantMatrix<'_>],
    xs: &[f32],
    n: usize,
    ys: &mut [&mut [f32]],
    pool: &Pool,
    tiles: bool,
) -> Result<(), KernelError> {
    let n_tiles = if tiles { n } else { 0 };
    let Some(cols) = ws.first().map(QuantMatrix::cols) else {
        return Ok(());
    };
    let mut plans = [ActPlan::default(); N_ACT];
    for w in ws {
        let act = activation_type(w.ty()).ok_or(KernelError::Unsupported {
            op: "matvec",
            ty: w.ty(),
        })?;
        let k = act_index(act).ok_or(KernelError::Unsupported {
            op: "matvec",
            ty: act,
        })?;
        let nb = row_blocks(act, cols)?;
        let plan = &mut plans[k];
        plan.weight.get_or_insert(w.ty());
        plan.nb = nb;
        plan.row = nb * act.type_size();
        plan.prepare |= tile_of(table, w, n_tiles).is_some();
    }
    // Take the buffers out of the thread-local (a nested call finds them empty and
    // allocates its own) and put them back afterwards.
    let mut scratch = SCRATCH.take();
    let result = quantize_all(table, &plans, xs, n, cols, &mut scratch, pool)
        .and_then(|()| multiply(table, ws, xs, &plans, &scratch, n, n_tiles, ys, pool));
    SCRATCH.set(scratch);
    result
}

/// Quantizes (and prepares) every activation row once per activation type in `plans`.
fn quantize_all(
    table: &KernelTable,
    plans: &[ActPlan; N_ACT],
    xs: &[f32],
    n: usize,
    cols: usize,
    s: &mut Scratch,
    pool: &Pool,
) -> Result<(), KernelError> {
    let mut parts = Vec::new();
    let bufs = s.raw.iter_mut().zip(s.prep.iter_mut());
    for (k, (plan, (raw, prep))) in plans.iter().zip(bufs).enumerate() {
        let Some(weight) = plan.weight else { continue };
        if ACT_TYPES[k] == GgmlType::F32 {
            // F32 weights read the activations as they are.
            continue;
        }
        let len = plan
            .row
            .checked_mul(n)
            .ok_or(KernelError::Overflow { rows: n, cols })?;
        if raw.len() < len {
            raw.resize(len, 0);
        }
        if plan.prepare {
            prep.resize(ACT_TYPES[k], plan.nb, n);
        }
        let lens = tile::prepare::row_lens(ACT_TYPES[k], plan.nb);
        parts.push(Part {
            weight,
            act: ACT_TYPES[k],
            row: plan.row,
            raw: SharedMut::new(&mut raw[..len]),
            prepare: plan.prepare,
            lens,
            q: SharedMut::new(&mut prep.q),
            d: SharedMut::new(&mut prep.d),
            s: SharedMut::new(&mut prep.s),
            bsum: SharedMut::new(&mut prep.bsum),
            neg_sum: SharedMut::new(&mut prep.neg_sum),
            sum16: SharedMut::new(&mut prep.sum16),
        });
    }
    if cols == 0 {
        return Ok(());
    }
    let error = Mutex::new(None);
    let rows = |t0: usize, t1: usize| {
        for t in t0..t1 {
            let x = &xs[t * cols..(t + 1) * cols];
            for p in &parts {
                // SAFETY: each activation row `t` is handled by exactly one task, and
                // the ranges of distinct rows are disjoint and inside each buffer (sized
                // for `n` rows above).
                let raw = unsafe { p.raw.slice(t * p.row, (t + 1) * p.row) };
                if let Err(e) = table.quantize_activation(p.weight, x, raw) {
                    error
                        .lock()
                        .unwrap_or_else(std::sync::PoisonError::into_inner)
                        .get_or_insert(e);
                    return;
                }
                if p.prepare {
                    let [lq, ld, ls, lb, ln, l16] = p.lens;
                    // SAFETY: as above, row `t`'s parts belong to this task alone.
                    let row = unsafe {
                        RowMut {
                            q: p.q.slice(t * lq, (t + 1) * lq),
                            d: p.d.slice(t * ld, (t + 1) * ld),
                            s: p.s.slice(t * ls, (t + 1) * ls),
                            bsum: p.bsum.slice(t * lb, (t + 1) * lb),
                            neg_sum: p.neg_sum.slice(t * ln, (t + 1) * ln),
                            sum16: p.sum16.slice(t * l16, (t + 1) * l16),
                        }
                    };
                    prepare_row(p.act, raw, row);
                }
            }
        }
    };
    if n >= PARALLEL_QUANTIZE_N && pool.threads() > 1 {
        let chunk = n.div_ceil(pool.threads() * 2);
        pool.run(n.div_ceil(chunk), |i| {
            rows(i * chunk, ((i + 1) * chunk).min(n))
        });
    } else {
        rows(0, n);
    }
    match error
        .into_inner()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
    {
        Some(e) => Err(e),
        None => Ok(()),
    }
}

/// One activation type's buffers, shared by the quantizing tasks.
struct Part<'a> {
    weight: GgmlType,
    act: GgmlType,
    row: usize,
    raw: SharedMut<'a, u8>,
    prepare: bool,
    lens: [usize; 6],
    q: SharedMut<'a, i8>,
    d: SharedMut<'a, f32>,
    s: SharedMut<'a, f32>,
    bsum: SharedMut<'a, i16>,
    neg_sum: SharedMut<'a, i32>,
    sum16: SharedMut<'a, i16>,
}

/// A range of rows of one product, as a pool task runs it.
trait Job: Sync {
    /// Rows of the weight matrix.
    fn rows(&self) -> usize;
    /// Rows per task.
    fn chunk(&self) -> usize;
    /// Computes the outputs of weight rows `r0..r1` for every activation row.
    fn run(&self, r0: usize, r1: usize);
}

/// Builds every product's job (tiled where `n_tiles` allows), then runs all their tasks
/// in one dispatch.
#[allow(clippy::too_many_arguments)]
fn multiply(
    table: &KernelTable,
    ws: &[QuantMatrix<'_>],
    xs: &[f32],
    plans: &[ActPlan; N_ACT],
    s: &Scratch,
    n: usize,
    n_tiles: usize,
    ys: &mut [&mut [f32]],
    pool: &Pool,
) -> Result<(), KernelError> {
    let mut jobs: Vec<Box<dyn Job + '_>> = Vec::with_capacity(ws.len());
    for (w, y) in ws.iter().zip(ys.iter_mut()) {
        let act = activation_type(w.ty()).ok_or(KernelError::Unsupported {
            op: "matvec",
            ty: w.ty(),
        })?;
        let k = act_index(act).ok_or(KernelError::Unsupported {
            op: "matvec",
            ty: act,
        })?;
        let plan = &plans[k];
        let out = &mut **y;
        if plan.nb == 0 {
            out.fill(0.0);
            continue;
        }
        let threads = pool.threads();
        if act == GgmlType::F32 {
            jobs.push(f32_job(table, w, xs, n, out, threads)?);
            continue;
        }
        let raw = &s.raw[k][..plan.row * n];
        if let Some(tiled) = tile_of(table, w, n_tiles) {
            let row_bytes = w.data().len() / w.rows().max(1);
            let align = match tiled {
                Tiled::Panels(..) => TILE_R,
                Tiled::Strip(_, align) => align,
            };
            jobs.push(Box::new(TileJob {
                tiled,
                w: w.data(),
                row_bytes,
                acts: s.prep[k].acts(act, plan.nb, n),
                rows: w.rows(),
                chunk: rows_per_task(w.rows(), n, row_bytes, threads, align),
                out: SharedMut::new(out),
            }));
            continue;
        }
        jobs.push(row_job(table, w, raw, n, out, threads)?);
    }
    let tasks: Vec<usize> = jobs.iter().map(|j| j.rows().div_ceil(j.chunk())).collect();
    let total = tasks.iter().sum();
    pool.run(total, |mut task| {
        for (job, &k) in jobs.iter().zip(&tasks) {
            if task < k {
                let c = job.chunk();
                job.run(task * c, ((task + 1) * c).min(job.rows()));
                return;
            }
            task -= k;
        }
    });
    Ok(())
}

/// The row-by-row job for `w` with its tier's `vec_dot`.
fn row_job<'a>(
    table: &KernelTable,
    w: &QuantMatrix<'a>,
    act: &'a [u8],
    n: usize,
    ys: &'a mut [f32],
    threads: usize,
) -> Result<Box<dyn Job + 'a>, KernelError> {
    #[allow(clippy::too_many_arguments)]
    fn make<'a, W: bytemuck::Pod + Sync, A: bytemuck::Pod + Sync>(
        f: VecDot<W, A>,
        rows_fn: Option<RowsFn>,
        w: &QuantMatrix<'a>,
        act: &'a [u8],
        n: usize,
        ys: &'a mut [f32],
        threads: usize,
    ) -> Result<Box<dyn Job + 'a>, KernelError> {
        let rows = w.rows();
        let row_bytes = w.data().len() / rows.max(1);
        let nb = row_bytes / size_of::<W>();
        if ys.len() != rows * n {
            return Err(KernelError::BadLength {
                what: "product output",
                expected: rows * n,
                found: ys.len(),
                unit: "elements",
            });
        }
        Ok(Box::new(RowJob {
            f,
            rows_fn,
            w: blocks("weight matrix", w.data(), nb * rows)?,
            acts: blocks("quantized activation", act, nb * n)?,
            nb,
            n,
            rows,
            chunk: rows_per_task(rows, n, row_bytes, threads, TILE_R),
            out: SharedMut::new(ys),
        }))
    }
    let t = table;
    let r = table.rows.get(w.ty());
    match w.ty() {
        GgmlType::Q4_0 => make(t.vec_dot_q4_0_q8_0, r, w, act, n, ys, threads),
        GgmlType::Q4_1 => make(t.vec_dot_q4_1_q8_1, r, w, act, n, ys, threads),
        GgmlType::Q5_0 => make(t.vec_dot_q5_0_q8_0, r, w, act, n, ys, threads),
        GgmlType::Q5_1 => make(t.vec_dot_q5_1_q8_1, r, w, act, n, ys, threads),
        GgmlType::Q8_0 => make(t.vec_dot_q8_0_q8_0, r, w, act, n, ys, threads),
        GgmlType::Q2_K => make(t.vec_dot_q2_k_q8_k, r, w, act, n, ys, threads),
        GgmlType::Q3_K => make(t.vec_dot_q3_k_q8_k, r, w, act, n, ys, threads),
        GgmlType::Q4_K => make(t.vec_dot_q4_k_q8_k, r, w, act, n, ys, threads),
        GgmlType::Q5_K => make(t.vec_dot_q5_k_q8_k, r, w, act, n, ys, threads),
        GgmlType::Q6_K => make(t.vec_dot_q6_k_q8_k, r, w, act, n, ys, threads),
        GgmlType::IQ4_NL => make(t.vec_dot_iq4_nl_q8_0, r, w, act, n, ys, threads),
        GgmlType::IQ4_XS => make(t.vec_dot_iq4_xs_q8_k, r, w, act, n, ys, threads),
        GgmlType::F16 => make(t.vec_dot_f16, r, w, act, n, ys, threads),
        GgmlType::BF16 => make(t.vec_dot_bf16, r, w, act, n, ys, threads),
        ty => Err(KernelError::Unsupported { op: "matvec", ty }),
    }
}

/// The job for F32 weights: the tier's `vec_dot_f32` of each weight row with each
/// activation row as it is.
fn f32_job<'a>(
    table: &KernelTable,
    w: &QuantMatrix<'a>,
    xs: &'a [f32],
    n: usize,
    ys: &'a mut [f32],
    threads: usize,
) -> Result<Box<dyn Job + 'a>, KernelError> {
    let (rows, cols) = (w.rows(), w.cols());
    if ys.len() != rows * n || xs.len() != cols * n || w.data().len() != rows * cols * 4 {
        return Err(KernelError::BadLength {
            what: "product output",
            expected: rows * n,
            found: ys.len(),
            unit: "elements",
        });
    }
    Ok(Box::new(F32Job {
        f: table.vec_dot_f32,
        w: w.data(),
        xs,
        cols,
        n,
        rows,
        chunk: rows_per_task(rows, n, cols * 4, threads, TILE_R),
        out: SharedMut::new(ys),
    }))
}

/// `ys[t·rows + r] = W[r]·xs[t]` for F32 weights, in tiles as [`RowJob`].
struct F32Job<'a> {
    f: VecDot<f32, f32>,
    /// The raw little-endian weights (a memory-mapped file's bytes need not be aligned
    /// for f32: such rows are copied first).
    w: &'a [u8],
    xs: &'a [f32],
    cols: usize,
    n: usize,
    rows: usize,
    chunk: usize,
    out: SharedMut<'a, f32>,
}

impl Job for F32Job<'_> {
    fn rows(&self) -> usize {
        self.rows
    }

    fn chunk(&self) -> usize {
        self.chunk
    }

    fn run(&self, r0: usize, r1: usize) {
        let (cols, n, rows) = (self.cols, self.n, self.rows);
        let aligned: Option<&[f32]> = bytemuck::try_cast_slice(self.w).ok();
        for rt in (r0..r1).step_by(TILE_R) {
            let rt1 = (rt + TILE_R).min(r1);
            let copies: Vec<Vec<f32>> = match aligned {
                Some(_) => Vec::new(),
                None => (rt..rt1)
                    .map(|r| {
                        self.w[r * cols * 4..(r + 1) * cols * 4]
                            .chunks_exact(4)
                            .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
                            .collect()
                    })
                    .collect(),
            };
            let ws: Vec<&[f32]> = match aligned {
                Some(w) => (rt..rt1).map(|r| &w[r * cols..(r + 1) * cols]).collect(),
                None => copies.iter().map(Vec::as_slice).collect(),
            };
            for t0 in (0..n).step_by(TILE_T) {
                let t1 = (t0 + TILE_T).min(n);
                for (r, row) in (rt..rt1).zip(&ws) {
                    for t in t0..t1 {
                        let x = &self.xs[t * cols..(t + 1) * cols];
                        // SAFETY: `f` comes from a table whose tier was checked against
                        // this CPU; it reads `cols` values of both slices.
                        let v = unsafe { (self.f)(row, x) };
                        // SAFETY: `t < n` and `r < rows` index inside the output
                        // (checked to hold `rows · n`); weight row `r` belongs to this
                        // task alone and the pool runs each task once.
                        unsafe { self.out.write(t * rows + r, v) };
                    }
                }
            }
        }
    }
}

/// `ys[t·rows + r] = f(W[r], act[t])`, in tiles of [`TILE_R`] weight rows by
/// [`TILE_T`] activation rows; or, where the tier has a row kernel for the type, that
/// kernel over [`ROWS_TILE`] weight rows per activation row (equal to `f` bit for bit).
struct RowJob<'a, W, A> {
    f: VecDot<W, A>,
    rows_fn: Option<RowsFn>,
    w: &'a [W],
    acts: &'a [A],
    nb: usize,
    n: usize,
    rows: usize,
    chunk: usize,
    out: SharedMut<'a, f32>,
}

impl<W: bytemuck::Pod + Sync, A: bytemuck::Pod + Sync> Job for RowJob<'_, W, A> {
    fn rows(&self) -> usize {
        self.rows
    }

    fn chunk(&self) -> usize {
        self.chunk
    }

    fn run(&self, r0: usize, r1: usize) {
        let (nb, n, rows) = (self.nb, self.n, self.rows);
        if let Some(f) = self.rows_fn {
            // One activation row (decoding) takes all the task's rows in one call.
            let step = if n == 1 { (r1 - r0).max(1) } else { ROWS_TILE };
            for rt in (r0..r1).step_by(step) {
                let rt1 = (rt + step).min(r1);
                let w: &[u8] = bytemuck::cast_slice(&self.w[rt * nb..rt1 * nb]);
                for t in 0..n {
                    let a: &[u8] = bytemuck::cast_slice(&self.acts[t * nb..(t + 1) * nb]);
                    // SAFETY: `t < n` and `rt..rt1` is inside `0..rows`, so the range is
                    // inside the output (checked to hold `rows · n`); weight rows
                    // `r0..r1` belong to this task alone and the pool runs each task once.
                    let out = unsafe { self.out.slice(t * rows + rt, t * rows + rt1) };
                    // SAFETY: `f` comes from a table whose tier was checked against this
                    // CPU; `w` holds `rt1 - rt` rows of `nb` blocks and `a` one row of `nb`
                    // blocks of the activation type.
                    unsafe { f(w, nb, a, out) };
                }
            }
            return;
        }
        for rt in (r0..r1).step_by(TILE_R) {
            let rt1 = (rt + TILE_R).min(r1);
            for t0 in (0..n).step_by(TILE_T) {
                let t1 = (t0 + TILE_T).min(n);
                for r in rt..rt1 {
                    let row = &self.w[r * nb..(r + 1) * nb];
                    for t in t0..t1 {
                        let a = &self.acts[t * nb..(t + 1) * nb];
                        // SAFETY: `f` comes from a table whose tier was checked against
                        // this CPU; `row` and `a` both hold `nb` whole blocks.
                        let v = unsafe { (self.f)(row, a) };
                        // SAFETY: `t < n` and `r < rows`, so the index is inside the
                        // output (checked to hold `rows · n`); weight row `r` belongs to
                        // this task alone and the pool runs each task once.
                        unsafe { self.out.write(t * rows + r, v) };
                    }
                }
            }
        }
    }
}

/// The tiled product of [`super::tile`].
struct TileJob<'a> {
    tiled: Tiled,
    w: &'a [u8],
    row_bytes: usize,
    acts: Acts<'a>,
    rows: usize,
    chunk: usize,
    out: SharedMut<'a, f32>,
}

impl Job for TileJob<'_> {
    fn rows(&self) -> usize {
        self.rows
    }

    fn chunk(&self) -> usize {
        self.chunk
    }

    fn run(&self, r0: usize, r1: usize) {
        let (tile, unpack) = match self.tiled {
            Tiled::Panels(tile, unpack) => (tile, unpack),
            Tiled::Strip(f, _) => {
                // SAFETY: `f` is this table's strip kernel for the weights' type (chosen
                // by `tile_of`) and the table's tier was checked against this CPU; `w`
                // holds `rows` whole rows of `row_bytes`, `acts` was prepared from this
                // product's activations with the weights' block count, the output holds
                // `n · rows` values (checked by the caller) and weight rows `r0..r1`
                // belong to this task alone.
                unsafe {
                    f(
                        self.w,
                        self.row_bytes,
                        r0,
                        r1,
                        &self.acts,
                        self.out.as_mut_ptr(),
                        self.rows,
                    )
                };
                return;
            }
        };
        let mut buf = PANELS.take();
        let rows = self.rows;
        let write = |t: usize, r: usize, v: f32| {
            // SAFETY: `t < n` and `r < rows` index inside the output (checked by the
            // caller to hold `rows · n`); weight rows `r0..r1` belong to this task.
            unsafe { self.out.write(t * rows + r, v) }
        };
        // SAFETY: `tile` is this table's kernel for the weight type `unpack` unpacks
        // (both chosen by `tile_of`), the table's tier was checked against this CPU, and
        // `acts` was prepared from this product's activations with the weights' block
        // count.
        unsafe {
            tile::tiled_rows(
                tile,
                unpack,
                self.w,
                self.row_bytes,
                r0,
                r1,
                &self.acts,
                &mut buf,
                write,
            )
        };
        PANELS.set(buf);
    }
}

/// Weight rows per task: a multiple of `align`, but no task smaller than
/// [`MIN_TASK_WORK`]. One task (all on the caller) for a single thread.
///
/// A batch takes about four tasks per thread, so a thread slowed by another process does
/// not hold the others up. Decoding (one activation row) takes one task per thread: each
/// task restarts a stream from memory and lays out the activation again, and on these
/// small matrices that costs more than the balance gains (decode at 2 threads, eight
/// alternating pairs: SmolLM2 a median 15 % faster, Gemma 3 2 %). The caller and the workers
/// take tasks from one counter, so a worker that wakes late still leaves its task to the
/// caller.
fn rows_per_task(rows: usize, n: usize, row_bytes: usize, threads: usize, align: usize) -> usize {
    if threads <= 1 {
        return rows.max(1);
    }
    let per_thread = if n == 1 { 1 } else { 4 };
    let work_per_row = row_bytes.saturating_mul(n).max(1);
    let min_rows = MIN_TASK_WORK.div_ceil(work_per_row);
    let chunk = min_rows.max(rows.div_ceil(threads * per_thread)).max(1);
    chunk.div_ceil(align).saturating_mul(align)
}

//! Products with a quantized weight matrix: [`matvec`] (`y = W·x`, one token) and
//! [`matmul`] (`Y = X·Wᵀ`, a batch of tokens reading each weight row once), and their
//! forms for several matrices sharing one input, [`matvec_multi`] and [`matmul_multi`]
//! (one dispatch to the pool for all of them), all spread over the threads of a [`Pool`].

use super::activation::activation_type;
use super::dispatch::{row_blocks, KernelTable};
use super::pool::Pool;
use super::product::products;
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
}

/// `y = W·x`: quantizes `x` once to the activation type of `w`, then computes each row's
/// dot product through `table`, spreading rows over the threads of `pool`.
///
/// The result does not depend on the number of threads, and equals [`matmul`] of the
/// same row bit for bit when the batch is too small for the tile kernels (see there).
/// The quantized activations are kept per thread between calls; a call allocates only
/// its small list of pool jobs.
pub fn matvec(
    table: &KernelTable,
    w: &QuantMatrix<'_>,
    x: &[f32],
    y: &mut [f32],
    pool: &Pool,
) -> Result<(), KernelError> {
    check_len("matvec input x", w.cols, x.len())?;
    check_len("matvec output y", w.rows, y.len())?;
    products(table, std::slice::from_ref(w), x, 1, &mut [y], pool, true)
}

/// `ys = xs·Wᵀ` for a batch of activation rows, as for prompt processing: `xs` holds `n`
/// rows of `cols` values and `ys` receives `n` rows of `rows` values (row `t` of `ys` is
/// `W·xs[t]`). `n` is `xs.len() / cols` (`ys.len() / rows` when `cols` is 0).
///
/// All `n` rows are quantized once (on the pool for a batch); then each weight row is
/// multiplied with every activation row while it is in cache. Where the tier has tile
/// kernels for the weight type (Q4_0, Q4_1, Q5_0, Q8_0, Q4_K, Q5_K, Q6_K on AVX2 and
/// AVX-512) and the batch has at least 4 rows, weight rows are unpacked once and
/// multiplied by several activation rows at a time (AVX-512: 16 weight rows × up to 8
/// activation rows); otherwise the tier's single-row dot product runs per pair.
///
/// Tiled outputs sum the f32 parts of the dot product (per-block scales) in an order of
/// their own, so they may differ from what [`matvec`] gives for that row in the last
/// bits: within 1e-5 of `Σ|w·x|` (the integer parts are exact). Untiled batches equal
/// [`matvec`] bit for bit. Either way the result does not depend on the number of
/// threads or on the batch's other rows.
pub fn matmul(
    table: &KernelTable,
    w: &QuantMatrix<'_>,
    xs: &[f32],
    ys: &mut [f32],
    pool: &Pool,
) -> Result<(), KernelError> {
    matmul_with(table, w, xs, ys, pool, true)
}

/// [`matmul`] without the tile kernels: the tier's single-row dot product for every
/// (weight row, activation row) pair, in cache-sized tiles of pairs, each output equal
/// to [`matvec`]'s bit for bit; kept as the baseline that benchmarks compare the tiled
/// path against.
pub fn matmul_rowwise(
    table: &KernelTable,
    w: &QuantMatrix<'_>,
    xs: &[f32],
    ys: &mut [f32],
    pool: &Pool,
) -> Result<(), KernelError> {
    matmul_with(table, w, xs, ys, pool, false)
}

fn matmul_with(
    table: &KernelTable,
    w: &QuantMatrix<'_>,
    xs: &[f32],
    ys: &mut [f32],
    pool: &Pool,
    tiles: bool,
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
    check_len("matmul input xs (n rows of cols)", expected_x, xs.len())?;
    let expected_y = n.checked_mul(w.rows).ok_or(KernelError::Overflow {
        rows: n,
        cols: w.rows,
    })?;
    check_len("matmul output ys (n rows of rows)", expected_y, ys.len())?;
    products(
        table,
        std::slice::from_ref(w),
        xs,
        n,
        &mut [ys],
        pool,
        tiles,
    )
}

/// `ys[i] = Ws[i]·x` for every `i`, in one dispatch to the pool (`x` quantized once per
/// activation type), as for the query, key and value projections of one token.
///
/// Every `ws[i]` must have `x.len()` columns and `ys[i]` hold `ws[i].rows()` values;
/// `ws` and `ys` must be as long as each other. Each output equals what [`matvec`] gives
/// for that matrix alone, bit for bit.
pub fn matvec_multi(
    table: &KernelTable,
    ws: &[QuantMatrix<'_>],
    x: &[f32],
    ys: &mut [&mut [f32]],
    pool: &Pool,
) -> Result<(), KernelError> {
    check_multi(ws, ys)?;
    for (w, y) in ws.iter().zip(ys.iter()) {
        check_len("matvec_multi input x", w.cols, x.len())?;
        check_len("matvec_multi output ys[i]", w.rows, y.len())?;
    }
    products(table, ws, x, 1, ys, pool, true)
}

/// `ys[i] = xs·Ws[i]ᵀ` for every `i`: the batch form of [`matvec_multi`]. `xs` holds `n`
/// rows of `cols` values, the columns every `ws[i]` must have; `ys[i]` receives `n` rows
/// of `ws[i].rows()` values. `n` is `xs.len() / cols` (taken from `ys[0]` when `cols`
/// is 0).
///
/// Each output equals what [`matmul`] gives for that matrix alone, bit for bit.
pub fn matmul_multi(
    table: &KernelTable,
    ws: &[QuantMatrix<'_>],
    xs: &[f32],
    ys: &mut [&mut [f32]],
    pool: &Pool,
) -> Result<(), KernelError> {
    check_multi(ws, ys)?;
    let (Some(w0), Some(y0)) = (ws.first(), ys.first()) else {
        return Ok(());
    };
    let cols = w0.cols;
    let n = match (cols, w0.rows) {
        (0, 0) => 0,
        (0, rows) => y0.len() / rows,
        (cols, _) => xs.len() / cols,
    };
    let expected_x = n
        .checked_mul(cols)
        .ok_or(KernelError::Overflow { rows: n, cols })?;
    check_len(
        "matmul_multi input xs (n rows of cols)",
        expected_x,
        xs.len(),
    )?;
    for (w, y) in ws.iter().zip(ys.iter()) {
        check_len(
            "matmul_multi weight columns (all matrices share the input)",
            cols,
            w.cols,
        )?;
        let expected_y = n.checked_mul(w.rows).ok_or(KernelError::Overflow {
            rows: n,
            cols: w.rows,
        })?;
        check_len(
            "matmul_multi output ys[i] (n rows of rows)",
            expected_y,
            y.len(),
        )?;
    }
    products(table, ws, xs, n, ys, pool, true)
}

/// One output per matrix.
fn check_multi(ws: &[QuantMatrix<'_>], ys: &[&mut [f32]]) -> Result<(), KernelError> {
    check_len("outputs (one per weight matrix)", ws.len(), ys.len())?;
    Ok(())
}

/// `Ok` when `found == expected`, else a [`KernelError::BadLength`] in elements naming `what`.
fn check_len(what: &'static str, expected: usize, found: usize) -> Result<(), KernelError> {
    if found == expected {
        return Ok(());
    }
    Err(KernelError::BadLength {
        what,
        expected,
        found,
        unit: "elements",
    })
}

//! The attention step of a batch of rows: their keys and values go into the KV cache, then
//! every query head of every row attends to the cached positions it may see, the (row,
//! head) pairs spread over the model's threads. Batches of [`TILED_MIN_ROWS`] rows or more
//! over an f16 cache take the tiled kernel instead ([`edge_kernels::ops::attend_tile`]):
//! blocks of rows that share a KV head, spread over the threads.

use std::cell::Cell;
use std::ops::Range;
use std::sync::Mutex;

use edge_kernels::ops::{attend_tile_scratch_len, AttendScratch, CachedKeys, CachedValues};
use edge_kernels::{GgmlType, KernelError};

use super::forward::Ctx;
use super::kv_cache::KvCache;
use super::LlmError;

/// Below this many cached key elements read in all (rows × heads × positions × head
/// width), the heads are attended on the calling thread: waking the pool would cost more
/// than it saves.
const MIN_PARALLEL_WORK: usize = 16 << 10;

thread_local! {
    /// The buffers of one head's attention, kept per thread.
    static SCRATCH: Cell<Option<Box<AttendScratch>>> = const { Cell::new(None) };
}

/// The rows of one attention step: row `i` is at position `pos + i`.
pub(crate) struct AttnRows<'a> {
    /// Queries, `n · n_head · head_dim`, scaled as the architecture wants them.
    pub q: &'a mut [f32],
    /// Keys and values, `n · n_head_kv · head_dim` each.
    pub k: &'a [f32],
    pub v: &'a [f32],
    /// Output, `n · n_head · head_dim`.
    pub out: &'a mut [f32],
    /// Position of the first row.
    pub pos: usize,
}

/// Stores the keys and values of every row of `rows` at its position in layer `layer` of
/// `cache`, then computes each row's attention over positions `first..=p` (`p` its own
/// position; `first` is 0, or `p + 1 - window` for a sliding-window layer), scores scaled
/// by `scale`.
///
/// The caller checks that the positions fit in the cache and that the lengths match the
/// model's hyperparameters.
pub(crate) fn store_and_attend(
    cx: &Ctx<'_>,
    cache: &mut KvCache,
    layer: usize,
    rows: AttnRows<'_>,
    window: Option<usize>,
    scale: f32,
) -> Result<(), LlmError> {
    let hp = cx.hp;
    let hd = hp.head_dim;
    let (n_head, group) = (hp.n_head, hp.n_head / hp.n_head_kv);
    let kv_dim = hp.n_head_kv * hd;
    let AttnRows { q, k, v, out, pos } = rows;
    for (i, (k, v)) in k
        .chunks_exact(kv_dim)
        .zip(v.chunks_exact(kv_dim))
        .enumerate()
    {
        cache.store(cx.table, layer, pos + i, k, v)?;
    }
    let q = &*q;
    let cache = &*cache;
    let n = q.len() / (n_head * hd).max(1);
    // The positions row `i` sees.
    let span = |i: usize| {
        let p = pos + i;
        window.map_or(0, |w| (p + 1).saturating_sub(w))..p + 1
    };
    if n >= TILED_MIN_ROWS && f16_cache(cache, layer) {
        return attend_tiled(cx, cache, layer, q, out, span, scale);
    }
    let error = Mutex::new(None);
    let head = |task: usize, out: &mut [f32]| {
        let (i, h) = (task / n_head, task % n_head);
        let (keys, values) = cache.head(layer, h / group, span(i));
        let qh = &q[task * hd..(task + 1) * hd];
        let mut scratch = SCRATCH.take().unwrap_or_default();
        let result = cx
            .table
            .attend_cached(qh, keys, values, scale, &mut scratch, out);
        SCRATCH.set(Some(scratch));
        if let Err(e) = result {
            if let Ok(mut slot) = error.lock() {
                slot.get_or_insert(e);
            }
        }
    };
    let work: usize = (0..n).map(|i| span(i).len()).sum::<usize>() * n_head * hd;
    if work < MIN_PARALLEL_WORK || cx.pool.threads() == 1 {
        out.chunks_exact_mut(hd)
            .enumerate()
            .for_each(|(task, o)| head(task, o));
    } else {
        cx.pool.run_chunks_mut(out, hd, head);
    }
    match error.into_inner() {
        Ok(None) => Ok(()),
        Ok(Some(e)) => Err(e.into()),
        // A task panicked while holding the lock; `run` re-raised that panic already.
        Err(poisoned) => poisoned.into_inner().map_or(Ok(()), |e| Err(e.into())),
    }
}

/// Batches of at least this many rows are attended in tiles (llama.cpp's tiled CPU
/// attention starts at the same count); smaller ones, and decoding, one query at a time.
const TILED_MIN_ROWS: usize = 64;

/// About this many query rows (positions × the query heads of one KV head) per tiled task.
const TILED_TASK_ROWS: usize = 64;

/// The buffers of one tiled task, kept per thread.
#[derive(Default)]
struct TileBufs {
    /// The task's queries, gathered when they are not contiguous in the batch.
    q: Vec<f32>,
    /// The positions each row sees, relative to the first key handed to the kernel.
    spans: Vec<Range<usize>>,
    scratch: Vec<f32>,
}

thread_local! {
    static TILE_BUFS: Cell<Option<Box<TileBufs>>> = const { Cell::new(None) };
    /// The tiled output grouped by KV head, before it is put back in row order.
    static TILE_OUT: Cell<Vec<f32>> = const { Cell::new(Vec::new()) };
}

/// Whether layer `layer` of `cache` holds f16 keys and values (what the tiled kernel reads).
fn f16_cache(cache: &KvCache, layer: usize) -> bool {
    matches!(
        cache.head(layer, 0, 0..0),
        (CachedKeys::F16(_), CachedValues::F16(_))
    )
}

/// The attention of every row of the batch `q` (`n · n_head · head_dim`, unrounded f32)
/// with the tiled kernel: one task per KV head and block of positions, whose rows are the
/// block's positions × the head's query heads, position-major.
fn attend_tiled(
    cx: &Ctx<'_>,
    cache: &KvCache,
    layer: usize,
    q: &[f32],
    out: &mut [f32],
    span: impl Fn(usize) -> Range<usize> + Sync,
    scale: f32,
) -> Result<(), LlmError> {
    let hp = cx.hp;
    let (hd, n_head, n_kv) = (hp.head_dim, hp.n_head, hp.n_head_kv);
    let group = n_head / n_kv;
    let n = q.len() / (n_head * hd).max(1);
    // Positions per block: a multiple of the kernel's row tile in rows.
    let align = edge_kernels::ops::TILE_ROWS;
    let block = align * TILED_TASK_ROWS.div_ceil(align * group).max(1);
    let n_blocks = n.div_ceil(block);
    let chunk = block * group * hd;
    let error = Mutex::new(None);
    let task = |t: usize, dst: &mut [f32]| {
        let (g, b) = (t / n_blocks, t % n_blocks);
        let (i0, i1) = (b * block, ((b + 1) * block).min(n));
        // The first position any row of the block sees (spans never start earlier for a
        // later position) to the last row's own position.
        let first = span(i0).start;
        let (keys, values) = match cache.head(layer, g, first..span(i1 - 1).end) {
            (CachedKeys::F16(k), CachedValues::F16(v)) => (k, v),
            _ => {
                let e = KernelError::Unsupported {
                    op: "tiled attention over a quantized KV cache",
                    ty: GgmlType::Q8_0,
                };
                if let Ok(mut slot) = error.lock() {
                    slot.get_or_insert(e);
                }
                return;
            }
        };
        let mut bufs = TILE_BUFS.take().unwrap_or_default();
        let TileBufs {
            q: gathered,
            spans,
            scratch,
        } = &mut *bufs;
        spans.clear();
        for i in i0..i1 {
            let s = span(i);
            spans.extend(std::iter::repeat_n(s.start - first..s.end - first, group));
        }
        let rows = spans.len();
        let qb = if n_kv == 1 {
            &q[i0 * n_head * hd..i1 * n_head * hd]
        } else {
            gathered.clear();
            for i in i0..i1 {
                let at = (i * n_head + g * group) * hd;
                gathered.extend_from_slice(&q[at..at + group * hd]);
            }
            &gathered[..]
        };
        scratch.resize(attend_tile_scratch_len(rows, hd), 0.0);
        let result = cx.table.attend_tile(
            qb,
            spans,
            keys,
            values,
            scale,
            scratch,
            &mut dst[..rows * hd],
        );
        TILE_BUFS.set(Some(bufs));
        if let Err(e) = result {
            if let Ok(mut slot) = error.lock() {
                slot.get_or_insert(e);
            }
        }
    };
    if n_kv == 1 {
        // One KV head: each block's rows are contiguous in the output already.
        cx.pool.run_chunks_mut(out, chunk, task);
    } else {
        // Blocks of every KV head, each padded to `block` positions, then back in row
        // order.
        let mut grouped = TILE_OUT.take();
        grouped.clear();
        grouped.resize(n_kv * n_blocks * chunk, 0.0);
        cx.pool.run_chunks_mut(&mut grouped, chunk, task);
        let width = group * hd;
        for g in 0..n_kv {
            for i in 0..n {
                let src = (g * n_blocks * block + i) * width;
                let at = (i * n_head + g * group) * hd;
                out[at..at + width].copy_from_slice(&grouped[src..src + width]);
            }
        }
        TILE_OUT.set(grouped);
    }
    match error.into_inner() {
        Ok(None) => Ok(()),
        Ok(Some(e)) => Err(e.into()),
        // A task panicked while holding the lock; `run` re-raised that panic already.
        Err(poisoned) => poisoned.into_inner().map_or(Ok(()), |e| Err(e.into())),
    }
}

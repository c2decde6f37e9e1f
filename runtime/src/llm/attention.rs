//! The attention step of a batch of rows: their keys and values go into the KV cache, then
//! every query head of every row attends to the cached positions it may see, the (row,
//! head) pairs spread over the model's threads.

use std::cell::Cell;
use std::sync::Mutex;

use half::f16;

use super::forward::{round_to_f16, Ctx};
use super::kv_cache::KvCache;
use super::LlmError;

/// Below this many cached key elements read in all (rows × heads × positions × head
/// width), the heads are attended on the calling thread: waking the pool would cost more
/// than it saves.
const MIN_PARALLEL_WORK: usize = 16 << 10;

thread_local! {
    /// The f16 accumulator of one head's attention, kept per thread.
    static ACC: Cell<Vec<f16>> = const { Cell::new(Vec::new()) };
}

/// The rows of one attention step: row `i` is at position `pos + i`.
pub(crate) struct AttnRows<'a> {
    /// Queries, `n · n_head · head_dim`, scaled as the architecture wants them; rounded
    /// to f16 precision here.
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
        cache.store(layer, pos + i, k, v);
    }
    // llama.cpp's attention multiplies the f16 keys by the query converted to f16.
    round_to_f16(q);
    let q = &*q;
    let cache = &*cache;
    let n = q.len() / (n_head * hd).max(1);
    // The positions row `i` sees.
    let span = |i: usize| {
        let p = pos + i;
        window.map_or(0, |w| (p + 1).saturating_sub(w))..p + 1
    };
    let error = Mutex::new(None);
    let head = |task: usize, out: &mut [f32]| {
        let (i, h) = (task / n_head, task % n_head);
        let (keys, values) = cache.head(layer, h / group, span(i));
        let qh = &q[task * hd..(task + 1) * hd];
        let mut acc = ACC.take();
        acc.resize(hd, f16::ZERO);
        let result = cx.table.attend(qh, keys, values, scale, &mut acc, out);
        ACC.set(acc);
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

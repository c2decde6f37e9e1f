//! The key/value cache of a session, in f16 (as llama.cpp's default).

use std::ops::Range;

use half::f16;

use super::LlmError;

/// Keys and values of every layer for up to `n_ctx` positions.
///
/// Layout `[layer][kv_head][position][head_dim]`: the positions of one head are contiguous,
/// so attention reads each head's history as one slice.
#[derive(Debug)]
pub(crate) struct KvCache {
    n_ctx: usize,
    n_head_kv: usize,
    head_dim: usize,
    k: Vec<f16>,
    v: Vec<f16>,
}

impl KvCache {
    /// Allocates the cache, failing (not aborting) when it does not fit in memory.
    pub(crate) fn new(
        n_layer: usize,
        n_head_kv: usize,
        head_dim: usize,
        n_ctx: usize,
    ) -> Result<KvCache, LlmError> {
        let bad = |why: String| LlmError::BadContextSize { n_ctx, why };
        if n_ctx == 0 {
            return Err(bad("it must be at least 1".into()));
        }
        let len = [n_layer, n_head_kv, head_dim]
            .iter()
            .try_fold(n_ctx, |acc, &d| acc.checked_mul(d))
            .ok_or_else(|| bad("the KV cache size overflows".into()))?;
        let alloc = || -> Result<Vec<f16>, LlmError> {
            let mut v = Vec::new();
            v.try_reserve_exact(len).map_err(|_| {
                bad(format!(
                    "cannot allocate a KV cache of 2 x {} MiB",
                    len.saturating_mul(2) >> 20
                ))
            })?;
            v.resize(len, f16::ZERO);
            Ok(v)
        };
        Ok(KvCache {
            n_ctx,
            n_head_kv,
            head_dim,
            k: alloc()?,
            v: alloc()?,
        })
    }

    /// Capacity in positions.
    pub(crate) fn n_ctx(&self) -> usize {
        self.n_ctx
    }

    fn head_start(&self, layer: usize, head: usize) -> usize {
        (layer * self.n_head_kv + head) * self.n_ctx * self.head_dim
    }

    /// Stores one position's keys and values (`n_head_kv · head_dim` each) of `layer`.
    /// The caller guarantees `layer`, `pos` and the lengths are in range.
    pub(crate) fn store(&mut self, layer: usize, pos: usize, k: &[f32], v: &[f32]) {
        let d = self.head_dim;
        for h in 0..self.n_head_kv {
            let at = self.head_start(layer, h) + pos * d;
            let src = h * d..(h + 1) * d;
            for (dst, &x) in self.k[at..at + d].iter_mut().zip(&k[src.clone()]) {
                *dst = f16::from_f32(x);
            }
            for (dst, &x) in self.v[at..at + d].iter_mut().zip(&v[src]) {
                *dst = f16::from_f32(x);
            }
        }
    }

    /// Keys and values of KV head `head` of `layer` for the positions `positions` (all of
    /// them for full attention, the window for sliding-window attention).
    pub(crate) fn head(
        &self,
        layer: usize,
        head: usize,
        positions: Range<usize>,
    ) -> (&[f16], &[f16]) {
        let at = self.head_start(layer, head);
        let range = at + positions.start * self.head_dim..at + positions.end * self.head_dim;
        (&self.k[range.clone()], &self.v[range])
    }
}

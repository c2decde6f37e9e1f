//! The key/value cache of a session: f16 (llama.cpp's default) or q8_0 (llama.cpp's
//! `--cache-type-k q8_0` / `--cache-type-v q8_0`), chosen separately for keys and values.

use std::fmt;
use std::ops::Range;
use std::str::FromStr;

use edge_kernels::ops::{CachedKeys, CachedValues};
use edge_kernels::KernelTable;
use edge_quant::legacy::BlockQ8_0;
use half::f16;

use super::LlmError;

/// Elements per q8_0 block.
const QK: usize = 32;

/// The element type of one side (keys or values) of a KV cache.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum CacheType {
    /// 16-bit floats: 2 bytes per element.
    #[default]
    F16,
    /// 8-bit blocks of 32 with an f16 scale: 34 bytes per 32 elements (1.06 per element),
    /// about half the memory of f16. Needs a head width that is a multiple of 32.
    Q8_0,
}

impl CacheType {
    /// Every type, in the order `--help` lists them.
    pub const ALL: [CacheType; 2] = [CacheType::F16, CacheType::Q8_0];

    /// The name used on command lines (llama.cpp's): `f16` or `q8_0`.
    pub fn name(self) -> &'static str {
        match self {
            CacheType::F16 => "f16",
            CacheType::Q8_0 => "q8_0",
        }
    }

    /// Bytes of one cached row of `d` elements (`d` a multiple of 32 for q8_0).
    fn row_bytes(self, d: usize) -> usize {
        match self {
            CacheType::F16 => 2 * d,
            CacheType::Q8_0 => d / QK * size_of::<BlockQ8_0>(),
        }
    }
}

impl fmt::Display for CacheType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A cache type name that is not one of [`CacheType::ALL`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unsupported KV cache type `{0}`: use f16 or q8_0")]
pub struct UnknownCacheType(pub String);

impl FromStr for CacheType {
    type Err = UnknownCacheType;

    /// Parses `f16` or `q8_0` (any case).
    fn from_str(s: &str) -> Result<CacheType, UnknownCacheType> {
        CacheType::ALL
            .into_iter()
            .find(|t| t.name().eq_ignore_ascii_case(s))
            .ok_or_else(|| UnknownCacheType(s.to_string()))
    }
}

/// The cached rows of one side, in its type.
#[derive(Debug)]
enum Rows {
    F16(Vec<f16>),
    Q8_0(Vec<BlockQ8_0>),
}

impl Rows {
    /// Room for `rows` rows of `d` elements of type `ty`, or `None` when it cannot be
    /// allocated.
    fn new(ty: CacheType, rows: usize, d: usize) -> Option<Rows> {
        fn alloc<T: Clone>(len: usize, zero: T) -> Option<Vec<T>> {
            let mut v = Vec::new();
            v.try_reserve_exact(len).ok()?;
            v.resize(len, zero);
            Some(v)
        }
        match ty {
            CacheType::F16 => alloc(rows.checked_mul(d)?, f16::ZERO).map(Rows::F16),
            CacheType::Q8_0 => {
                let zero = BlockQ8_0 {
                    d: [0; 2],
                    qs: [0; QK],
                };
                alloc(rows.checked_mul(d / QK)?, zero).map(Rows::Q8_0)
            }
        }
    }
}

/// Keys and values of every layer for up to `n_ctx` positions.
///
/// Layout `[layer][kv_head][position][head_dim]` on each side: the positions of one head
/// are contiguous, so attention reads each head's history as one slice.
#[derive(Debug)]
pub(crate) struct KvCache {
    n_ctx: usize,
    n_head_kv: usize,
    head_dim: usize,
    k: Rows,
    v: Rows,
}

impl KvCache {
    /// Allocates the cache, failing (not aborting) when it does not fit in memory or a
    /// q8_0 side is asked for heads whose width is not a multiple of 32.
    pub(crate) fn new(
        n_layer: usize,
        n_head_kv: usize,
        head_dim: usize,
        n_ctx: usize,
        types: [CacheType; 2],
    ) -> Result<KvCache, LlmError> {
        let bad = |why: String| LlmError::BadContextSize { n_ctx, why };
        if n_ctx == 0 {
            return Err(bad("it must be at least 1".into()));
        }
        if types.contains(&CacheType::Q8_0) && !head_dim.is_multiple_of(QK) {
            return Err(LlmError::UnsupportedCacheType {
                ty: CacheType::Q8_0,
                why: format!("the model's head width {head_dim} is not a multiple of {QK}"),
            });
        }
        let rows = [n_layer, n_head_kv]
            .iter()
            .try_fold(n_ctx, |acc, &d| acc.checked_mul(d))
            .ok_or_else(|| bad("the KV cache size overflows".into()))?;
        let side = |ty: CacheType| {
            Rows::new(ty, rows, head_dim).ok_or_else(|| {
                let bytes = rows.saturating_mul(ty.row_bytes(head_dim));
                bad(format!(
                    "cannot allocate a KV cache of 2 x {} MiB ({ty})",
                    bytes >> 20
                ))
            })
        };
        Ok(KvCache {
            n_ctx,
            n_head_kv,
            head_dim,
            k: side(types[0])?,
            v: side(types[1])?,
        })
    }

    /// Capacity in positions.
    pub(crate) fn n_ctx(&self) -> usize {
        self.n_ctx
    }

    /// Index of the first row of KV head `head` of `layer`.
    fn head_row(&self, layer: usize, head: usize) -> usize {
        (layer * self.n_head_kv + head) * self.n_ctx
    }

    /// Stores one position's keys and values (`n_head_kv · head_dim` each) of `layer`,
    /// quantizing them with `table` for a q8_0 side. The caller guarantees `layer`, `pos`
    /// and the lengths are in range.
    pub(crate) fn store(
        &mut self,
        table: &KernelTable,
        layer: usize,
        pos: usize,
        k: &[f32],
        v: &[f32],
    ) -> Result<(), LlmError> {
        let d = self.head_dim;
        for h in 0..self.n_head_kv {
            let row = self.head_row(layer, h) + pos;
            let src = h * d..(h + 1) * d;
            store_row(table, &mut self.k, row, d, &k[src.clone()])?;
            store_row(table, &mut self.v, row, d, &v[src])?;
        }
        Ok(())
    }

    /// Keys and values of KV head `head` of `layer` for the positions `positions` (all of
    /// them for full attention, the window for sliding-window attention).
    pub(crate) fn head(
        &self,
        layer: usize,
        head: usize,
        positions: Range<usize>,
    ) -> (CachedKeys<'_>, CachedValues<'_>) {
        let first = self.head_row(layer, head);
        let rows = first + positions.start..first + positions.end;
        let d = self.head_dim;
        let keys = match &self.k {
            Rows::F16(k) => CachedKeys::F16(&k[rows.start * d..rows.end * d]),
            Rows::Q8_0(k) => CachedKeys::Q8_0(&k[rows.start * d / QK..rows.end * d / QK]),
        };
        let values = match &self.v {
            Rows::F16(v) => CachedValues::F16(&v[rows.start * d..rows.end * d]),
            Rows::Q8_0(v) => CachedValues::Q8_0(&v[rows.start * d / QK..rows.end * d / QK]),
        };
        (keys, values)
    }
}

/// Writes `x` (`d` values) as row `row` of `rows`.
fn store_row(
    table: &KernelTable,
    rows: &mut Rows,
    row: usize,
    d: usize,
    x: &[f32],
) -> Result<(), LlmError> {
    match rows {
        Rows::F16(dst) => {
            for (dst, &x) in dst[row * d..(row + 1) * d].iter_mut().zip(x) {
                *dst = f16::from_f32(x);
            }
        }
        Rows::Q8_0(dst) => {
            let nb = d / QK;
            table.quantize_row_q8_0(x, &mut dst[row * nb..(row + 1) * nb])?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_parse_both_ways() {
        for t in CacheType::ALL {
            assert_eq!(t.name().parse::<CacheType>(), Ok(t));
            assert_eq!(t.to_string(), t.name());
        }
        assert_eq!("Q8_0".parse::<CacheType>(), Ok(CacheType::Q8_0));
        let e = "q4_0".parse::<CacheType>().unwrap_err();
        assert!(e.to_string().contains("use f16 or q8_0"), "{e}");
    }

    #[test]
    fn q8_0_needs_whole_blocks_per_head() {
        let e = KvCache::new(2, 1, 48, 8, [CacheType::Q8_0, CacheType::F16]).unwrap_err();
        assert!(e.to_string().contains("multiple of 32"), "{e}");
        assert!(KvCache::new(2, 1, 48, 8, [CacheType::F16; 2]).is_ok());
    }

    #[test]
    fn stores_and_reads_back_each_type() {
        let table = KernelTable::scalar();
        let (d, n_head_kv) = (64, 2);
        for types in [[CacheType::F16; 2], [CacheType::Q8_0; 2]] {
            let mut c = KvCache::new(3, n_head_kv, d, 4, types).unwrap();
            let k: Vec<f32> = (0..n_head_kv * d).map(|i| i as f32 / 16.0).collect();
            let v: Vec<f32> = k.iter().map(|x| -x).collect();
            c.store(table, 1, 2, &k, &v).unwrap();
            let (keys, values) = c.head(1, 1, 2..3);
            match (keys, values) {
                (CachedKeys::F16(k2), CachedValues::F16(v2)) => {
                    assert_eq!(k2[5].to_f32(), k[d + 5]);
                    assert_eq!(v2[5].to_f32(), v[d + 5]);
                }
                (CachedKeys::Q8_0(k2), CachedValues::Q8_0(v2)) => {
                    assert_eq!((k2.len(), v2.len()), (2, 2));
                    let d0 = f16::from_le_bytes(k2[0].d).to_f32();
                    assert!((d0 * f32::from(k2[0].qs[5]) - k[d + 5]).abs() < 0.05);
                }
                _ => panic!("types {types:?} read back as other types"),
            }
        }
    }
}

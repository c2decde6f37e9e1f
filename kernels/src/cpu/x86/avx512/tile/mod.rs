//! AVX-512 VNNI strip kernels (see [`crate::cpu::tile::StripFn`]): weight rows are
//! unpacked [`ROWS`] at a time into panels where each 64-byte line holds the same four
//! quants of all 16 rows (row `r` in i32 lane `r`), block after block. A tile multiplies
//! one panel by up to [`T_MAX`] activation rows: per four quants, one line load and one
//! `vpdpbusd` per activation row with the activation's four bytes broadcast from memory,
//! so each i32 lane sums one (weight row, activation row) pair. Per block (per 32
//! elements, or per K-quant sub-block) the sums are scaled once per vector: 16 outputs
//! per `cvt` + FMA instead of one.
//!
//! Offsets are exact: the unsigned quants' bias (8 for Q4_0, 16 for Q5_0, 128 for the
//! biased Q8_0, 32 for Q6_K) is taken off in i32 with the activation block's sum. The f32
//! work per output is one `(d_w·d_a)·sum` FMA per block (plus the `m·s` term of Q4_1/Q5_1,
//! the min term of Q4_K/Q5_K), in block order, the same whatever the batch, the tile or
//! the thread; it is not the single-row kernels' order, so results may differ from
//! `vec_dot` in the last bits.

// Block, row and activation indices address several arrays at once.
#![allow(clippy::needless_range_loop)]

mod unpack;

use crate::cpu::tile::Acts;
use core::arch::x86_64::*;
use std::cell::Cell;

/// Weight rows per panel: one per i32 lane of a 512-bit vector.
pub(crate) const ROWS: usize = 16;
/// The most activation rows per tile.
const T_MAX: usize = 8;
/// Unpacked bytes a strip of panels should stay within (in the L2 cache while every
/// group of activation rows passes over it).
const STRIP_BYTES: usize = 192 << 10;

/// One 64-byte line of a panel.
#[derive(Clone, Copy)]
#[repr(C, align(64))]
pub(super) struct Line(pub [u8; 64]);

thread_local! {
    /// A task's unpacked panels, kept between calls.
    static PANELS: Cell<Vec<Line>> = const { Cell::new(Vec::new()) };
}

/// Unpacks 16 raw weight rows (`nb` blocks each) into `nb · lines` panel lines.
type UnpackFn = unsafe fn(&[&[u8]; ROWS], usize, &mut [Line]);
/// Multiplies one panel by activation rows `t0..t0 + tn` (`1 <= tn <= T_MAX`), storing
/// the lanes of `mask` of the output of activation row `t0 + i` at `out + i·rows`.
type TileFn = unsafe fn(&[Line], &Acts<'_>, usize, usize, *mut f32, usize, __mmask16);

/// What a strip kernel is made of, per weight type.
struct Kind {
    /// Panel lines per block.
    lines: usize,
    unpack: UnpackFn,
    tile: TileFn,
}

/// The driver: strips of panels sized for the cache, each unpacked once and then
/// multiplied by every group of activation rows.
///
/// # Safety
/// As [`crate::cpu::tile::StripFn`], with `kind` of the weights' type.
#[target_feature(enable = "avx512f,avx512bw,avx512vl,avx512vnni,avx2,fma,f16c")]
#[allow(clippy::too_many_arguments)]
unsafe fn strip(
    kind: &Kind,
    w: &[u8],
    row_bytes: usize,
    r0: usize,
    r1: usize,
    acts: &Acts<'_>,
    out: *mut f32,
    rows: usize,
) {
    let (nb, n) = (acts.nb, acts.n);
    if n == 0 || r0 >= r1 || nb == 0 {
        return;
    }
    let panel_lines = nb * kind.lines;
    let per_strip = (STRIP_BYTES / (panel_lines * 64)).max(1);
    let mut buf = PANELS.take();
    if buf.len() < per_strip * panel_lines {
        buf.resize(per_strip * panel_lines, Line([0; 64]));
    }
    let mut s0 = r0;
    while s0 < r1 {
        let s1 = (s0 + per_strip * ROWS).min(r1);
        let panels = (s1 - s0).div_ceil(ROWS);
        for p in 0..panels {
            let p0 = s0 + p * ROWS;
            let k = (s1 - p0).min(ROWS);
            // Rows past the end repeat the last row; their outputs are never stored.
            let raw: [&[u8]; ROWS] = std::array::from_fn(|i| {
                let r = p0 + i.min(k - 1);
                &w[r * row_bytes..(r + 1) * row_bytes]
            });
            let lines = &mut buf[p * panel_lines..(p + 1) * panel_lines];
            // SAFETY: the caller's promises: the CPU has the features and each row holds
            // `nb` whole blocks of the type `kind` unpacks.
            unsafe { (kind.unpack)(&raw, nb, lines) };
        }
        for t0 in (0..n).step_by(T_MAX) {
            let tn = (n - t0).min(T_MAX);
            for p in 0..panels {
                let p0 = s0 + p * ROWS;
                let k = (s1 - p0).min(ROWS);
                let mask = (((1u32 << k) - 1) & 0xffff) as __mmask16;
                let panel = &buf[p * panel_lines..(p + 1) * panel_lines];
                // SAFETY: `p0 + k <= r1 <= rows`, so every stored lane `t·rows + p0 + j`
                // (`t < n`, `j < k`) is inside the output, in the rows this call owns;
                // `acts` holds rows `t0..t0 + tn` of `nb` blocks (the caller's promise).
                unsafe {
                    let o = out.add(t0 * rows + p0);
                    (kind.tile)(panel, acts, t0, tn, o, rows, mask)
                };
            }
        }
        s0 = s1;
    }
    PANELS.set(buf);
}

/// Loads a panel line.
#[inline]
#[target_feature(enable = "avx512f")]
fn line(l: &Line) -> __m512i {
    // SAFETY: `l` is 64 readable bytes, aligned to 64.
    unsafe { _mm512_load_si512(l.0.as_ptr().cast()) }
}

/// Loads a panel line of f32.
#[inline]
#[target_feature(enable = "avx512f")]
fn line_ps(l: &Line) -> __m512 {
    // SAFETY: `l` is 64 readable bytes, aligned to 64.
    unsafe { _mm512_load_ps(l.0.as_ptr().cast()) }
}

/// Four bytes at `p`, broadcast to every i32 lane.
///
/// # Safety
/// `p..p + 4` must be readable.
#[inline]
#[target_feature(enable = "avx512f")]
unsafe fn bcast4<U>(p: *const U) -> __m512i {
    // SAFETY: the caller's promise; unaligned reads are allowed.
    _mm512_set1_epi32(unsafe { p.cast::<i32>().read_unaligned() })
}

/// The value at `p`, broadcast.
///
/// # Safety
/// `p` must be readable.
#[inline]
#[target_feature(enable = "avx512f")]
unsafe fn bcast_ps(p: *const f32) -> __m512 {
    // SAFETY: the caller's promise.
    _mm512_set1_ps(unsafe { p.read() })
}

/// Base pointers of activation rows `t0..t0 + TN` in a part of `per_row` values per row.
///
/// # Safety
/// `part` must hold at least `(t0 + TN) · per_row` values.
#[inline]
unsafe fn row_ptrs<U, const TN: usize>(part: &[U], t0: usize, per_row: usize) -> [*const U; TN] {
    debug_assert!(part.len() >= (t0 + TN) * per_row);
    // SAFETY: inside `part` (the caller's promise).
    std::array::from_fn(|i| unsafe { part.as_ptr().add((t0 + i) * per_row) })
}

/// Stores one f32 vector per activation row, lanes of `mask` only.
///
/// # Safety
/// `out + t·rows + j` must be writable for every `t < TN` and lane `j` of `mask`.
#[inline]
#[target_feature(enable = "avx512f")]
unsafe fn store<const TN: usize>(acc: &[__m512; TN], out: *mut f32, rows: usize, mask: __mmask16) {
    for i in 0..TN {
        // SAFETY: the caller's promise.
        unsafe { _mm512_mask_storeu_ps(out.add(i * rows), mask, acc[i]) };
    }
}

/// Legacy types (32-element blocks; lines per block: 8 of quants, 1 of `d`, and for
/// Q4_1 and Q5_1 1 of `m`): `Σ_b (d_w·d_a)·Σ (q - 2^SHIFT)·y [+ m_w·s_a]`, the bias taken off
/// as `2^SHIFT · (-Σy)` (none for `SHIFT == 0`).
///
/// # Safety
/// The CPU must support AVX-512 F/BW/VL/VNNI; `p` a panel of `a.nb` blocks of this
/// layout; `a` prepared Q8_0 rows (Q8_1 for `MIN`) including `t0..t0 + TN`; `out` as
/// for [`store`].
#[inline]
#[target_feature(enable = "avx512f,avx512bw,avx512vl,avx512vnni,avx2,fma,f16c")]
unsafe fn legacy<const TN: usize, const SHIFT: u32, const MIN: bool>(
    p: &[Line],
    a: &Acts<'_>,
    t0: usize,
    out: *mut f32,
    rows: usize,
    mask: __mmask16,
) {
    let nb = a.nb;
    let lines = if MIN { 10 } else { 9 };
    debug_assert!(p.len() >= nb * lines);
    // SAFETY: `a` holds rows `t0..t0 + TN` of every part this type prepares.
    let (aq, ad) = unsafe {
        (
            row_ptrs::<_, TN>(a.q, t0, nb * 32),
            row_ptrs::<_, TN>(a.d, t0, nb),
        )
    };
    let an = if SHIFT > 0 {
        // SAFETY: as above (Q8_0 rows carry `neg_sum`).
        unsafe { row_ptrs::<_, TN>(a.neg_sum, t0, nb) }
    } else {
        [std::ptr::null(); TN]
    };
    let asum = if MIN {
        // SAFETY: as above (Q8_1 rows carry `s`).
        unsafe { row_ptrs::<_, TN>(a.s, t0, nb) }
    } else {
        [std::ptr::null(); TN]
    };
    let mut acc = [_mm512_setzero_ps(); TN];
    for (b, blk) in p.chunks_exact(lines).take(nb).enumerate() {
        let mut isum: [__m512i; TN] = std::array::from_fn(|i| {
            if SHIFT > 0 {
                // SAFETY: block `b < nb` of row `t0 + i`.
                let v = unsafe { _mm512_set1_epi32(an[i].add(b).read()) };
                _mm512_sll_epi32(v, _mm_cvtsi32_si128(SHIFT as i32))
            } else {
                _mm512_setzero_si512()
            }
        });
        for c in 0..8 {
            let wq = line(&blk[c]);
            for i in 0..TN {
                // SAFETY: bytes `4c..4c + 4` of block `b` of row `t0 + i`.
                let y = unsafe { bcast4(aq[i].add(b * 32 + 4 * c)) };
                isum[i] = _mm512_dpbusd_epi32(isum[i], wq, y);
            }
        }
        let dw = line_ps(&blk[8]);
        for i in 0..TN {
            // SAFETY: block `b` of row `t0 + i`.
            let d = _mm512_mul_ps(dw, unsafe { bcast_ps(ad[i].add(b)) });
            acc[i] = _mm512_fmadd_ps(d, _mm512_cvtepi32_ps(isum[i]), acc[i]);
        }
        if MIN {
            let m = line_ps(&blk[9]);
            for i in 0..TN {
                // SAFETY: block `b` of row `t0 + i`.
                acc[i] = _mm512_fmadd_ps(m, unsafe { bcast_ps(asum[i].add(b)) }, acc[i]);
            }
        }
    }
    // SAFETY: the caller's promise on `out`.
    unsafe { store(&acc, out, rows, mask) };
}

/// Q4_K and Q5_K (lines per block: 64 of quants, 8 of sub-block scales as i32, 4 of
/// sub-block min pairs as two i16, 1 of `d`, 1 of `dmin`):
/// `Σ_b (d·d_a)·Σ_j sc_j·Σ q·y - (dmin·d_a)·Σ_j m_j·bsum_j`.
///
/// # Safety
/// As [`legacy`], with prepared Q8_K rows.
#[inline]
#[target_feature(enable = "avx512f,avx512bw,avx512vl,avx512vnni,avx2,fma,f16c")]
unsafe fn k_min<const TN: usize>(
    p: &[Line],
    a: &Acts<'_>,
    t0: usize,
    out: *mut f32,
    rows: usize,
    mask: __mmask16,
) {
    let nb = a.nb;
    debug_assert!(p.len() >= nb * 78);
    // SAFETY: `a` holds rows `t0..t0 + TN` of every part Q8_K prepares.
    let (aq, ad, abs) = unsafe {
        (
            row_ptrs::<_, TN>(a.q, t0, nb * 256),
            row_ptrs::<_, TN>(a.d, t0, nb),
            row_ptrs::<_, TN>(a.bsum, t0, nb * 8),
        )
    };
    let mut acc = [_mm512_setzero_ps(); TN];
    for (b, blk) in p.chunks_exact(78).take(nb).enumerate() {
        let mut tot = [_mm512_setzero_si512(); TN];
        for j in 0..8 {
            let mut isum = [_mm512_setzero_si512(); TN];
            for c in 0..8 {
                let wq = line(&blk[8 * j + c]);
                for i in 0..TN {
                    // SAFETY: bytes `32j + 4c..+4` of block `b` of row `t0 + i`.
                    let y = unsafe { bcast4(aq[i].add(b * 256 + 32 * j + 4 * c)) };
                    isum[i] = _mm512_dpbusd_epi32(isum[i], wq, y);
                }
            }
            let sc = line(&blk[64 + j]);
            for i in 0..TN {
                tot[i] = _mm512_add_epi32(tot[i], _mm512_mullo_epi32(isum[i], sc));
            }
        }
        let mut ms = [_mm512_setzero_si512(); TN];
        for g in 0..4 {
            let mn = line(&blk[72 + g]);
            for i in 0..TN {
                // SAFETY: the pair of sums `2g, 2g + 1` of block `b` of row `t0 + i`.
                let s = unsafe { bcast4(abs[i].add(b * 8 + 2 * g)) };
                ms[i] = _mm512_dpwssd_epi32(ms[i], mn, s);
            }
        }
        let (d, dmin) = (line_ps(&blk[76]), line_ps(&blk[77]));
        for i in 0..TN {
            // SAFETY: block `b` of row `t0 + i`.
            let da = unsafe { bcast_ps(ad[i].add(b)) };
            acc[i] = _mm512_fmadd_ps(_mm512_mul_ps(d, da), _mm512_cvtepi32_ps(tot[i]), acc[i]);
            let dm = _mm512_mul_ps(dmin, da);
            acc[i] = _mm512_fnmadd_ps(dm, _mm512_cvtepi32_ps(ms[i]), acc[i]);
        }
    }
    // SAFETY: the caller's promise on `out`.
    unsafe { store(&acc, out, rows, mask) };
}

/// Q6_K (lines per block: 64 of quants, 16 of sub-block scales as i32, 8 of scale pairs
/// as two i16, 1 of `d`): `Σ_b (d·d_a)·Σ_j sc_j·(Σ q·y - 32·Σy)`, the bias taken off
/// once per block as `32·Σ_j sc_j·Σy_j`.
///
/// # Safety
/// As [`legacy`], with prepared Q8_K rows.
#[inline]
#[target_feature(enable = "avx512f,avx512bw,avx512vl,avx512vnni,avx2,fma,f16c")]
unsafe fn k_q6<const TN: usize>(
    p: &[Line],
    a: &Acts<'_>,
    t0: usize,
    out: *mut f32,
    rows: usize,
    mask: __mmask16,
) {
    let nb = a.nb;
    debug_assert!(p.len() >= nb * 89);
    // SAFETY: `a` holds rows `t0..t0 + TN` of every part Q8_K prepares.
    let (aq, ad, a16) = unsafe {
        (
            row_ptrs::<_, TN>(a.q, t0, nb * 256),
            row_ptrs::<_, TN>(a.d, t0, nb),
            row_ptrs::<_, TN>(a.sum16, t0, nb * 16),
        )
    };
    let mut acc = [_mm512_setzero_ps(); TN];
    for (b, blk) in p.chunks_exact(89).take(nb).enumerate() {
        let mut tot = [_mm512_setzero_si512(); TN];
        for j in 0..16 {
            let mut isum = [_mm512_setzero_si512(); TN];
            for c in 0..4 {
                let wq = line(&blk[4 * j + c]);
                for i in 0..TN {
                    // SAFETY: bytes `16j + 4c..+4` of block `b` of row `t0 + i`.
                    let y = unsafe { bcast4(aq[i].add(b * 256 + 16 * j + 4 * c)) };
                    isum[i] = _mm512_dpbusd_epi32(isum[i], wq, y);
                }
            }
            let sc = line(&blk[64 + j]);
            for i in 0..TN {
                tot[i] = _mm512_add_epi32(tot[i], _mm512_mullo_epi32(isum[i], sc));
            }
        }
        let mut ms = [_mm512_setzero_si512(); TN];
        for g in 0..8 {
            let sp = line(&blk[80 + g]);
            for i in 0..TN {
                // SAFETY: the sums `2g, 2g + 1` of block `b` of row `t0 + i`.
                let s = unsafe { bcast4(a16[i].add(b * 16 + 2 * g)) };
                ms[i] = _mm512_dpwssd_epi32(ms[i], sp, s);
            }
        }
        let d = line_ps(&blk[88]);
        for i in 0..TN {
            let v = _mm512_sub_epi32(tot[i], _mm512_slli_epi32::<5>(ms[i]));
            // SAFETY: block `b` of row `t0 + i`.
            let da = unsafe { bcast_ps(ad[i].add(b)) };
            acc[i] = _mm512_fmadd_ps(_mm512_mul_ps(d, da), _mm512_cvtepi32_ps(v), acc[i]);
        }
    }
    // SAFETY: the caller's promise on `out`.
    unsafe { store(&acc, out, rows, mask) };
}

/// A [`TileFn`] that calls `$k::<tn, ...>` for the tile's row count.
macro_rules! by_rows {
    ($name:ident, $k:ident $(, $g:expr)*) => {
        /// # Safety
        /// As the kernel it calls, with `1 <= tn <= T_MAX`.
        #[target_feature(enable = "avx512f,avx512bw,avx512vl,avx512vnni,avx2,fma,f16c")]
        unsafe fn $name(
            p: &[Line],
            a: &Acts<'_>,
            t0: usize,
            tn: usize,
            out: *mut f32,
            rows: usize,
            mask: __mmask16,
        ) {
            // SAFETY: the caller's promises, passed on.
            unsafe {
                match tn {
                    1 => $k::<1 $(, $g)*>(p, a, t0, out, rows, mask),
                    2 => $k::<2 $(, $g)*>(p, a, t0, out, rows, mask),
                    3 => $k::<3 $(, $g)*>(p, a, t0, out, rows, mask),
                    4 => $k::<4 $(, $g)*>(p, a, t0, out, rows, mask),
                    5 => $k::<5 $(, $g)*>(p, a, t0, out, rows, mask),
                    6 => $k::<6 $(, $g)*>(p, a, t0, out, rows, mask),
                    7 => $k::<7 $(, $g)*>(p, a, t0, out, rows, mask),
                    _ => $k::<8 $(, $g)*>(p, a, t0, out, rows, mask),
                }
            }
        }
    };
}

by_rows!(tile_q4_0, legacy, 3, false);
by_rows!(tile_min, legacy, 0, true);
by_rows!(tile_q5_0, legacy, 4, false);
by_rows!(tile_q8_0, legacy, 7, false);
by_rows!(tile_k_min, k_min);
by_rows!(tile_q6_k, k_q6);

macro_rules! strip_fn {
    ($(#[$doc:meta])* $name:ident, $lines:expr, $unpack:path, $tile:ident) => {
        $(#[$doc])*
        ///
        /// # Safety
        /// The CPU must support AVX-512 F/BW/VL/VNNI, AVX2, FMA and F16C; see
        /// [`crate::cpu::tile::StripFn`] for the operands.
        #[target_feature(enable = "avx512f,avx512bw,avx512vl,avx512vnni,avx2,fma,f16c")]
        pub(crate) unsafe fn $name(
            w: &[u8],
            row_bytes: usize,
            r0: usize,
            r1: usize,
            acts: &Acts<'_>,
            out: *mut f32,
            rows: usize,
        ) {
            static KIND: Kind = Kind {
                lines: $lines,
                unpack: $unpack,
                tile: $tile,
            };
            // SAFETY: the caller's promises, for this kernel's type.
            unsafe { strip(&KIND, w, row_bytes, r0, r1, acts, out, rows) }
        }
    };
}

strip_fn!(
    /// Q4_0 weights · Q8_0 activations, batched.
    strip_q4_0, 9, unpack::q4_0, tile_q4_0
);
strip_fn!(
    /// Q4_1 weights · Q8_1 activations, batched.
    strip_q4_1, 10, unpack::q4_1, tile_min
);
strip_fn!(
    /// Q5_0 weights · Q8_0 activations, batched.
    strip_q5_0, 9, unpack::q5_0, tile_q5_0
);
strip_fn!(
    /// Q5_1 weights · Q8_1 activations, batched.
    strip_q5_1, 10, unpack::q5_1, tile_min
);
strip_fn!(
    /// Q8_0 weights · Q8_0 activations, batched.
    strip_q8_0, 9, unpack::q8_0, tile_q8_0
);
strip_fn!(
    /// Q4_K weights · Q8_K activations, batched.
    strip_q4_k, 78, unpack::q4_k, tile_k_min
);
strip_fn!(
    /// Q5_K weights · Q8_K activations, batched.
    strip_q5_k, 78, unpack::q5_k, tile_k_min
);
strip_fn!(
    /// Q6_K weights · Q8_K activations, batched.
    strip_q6_k, 89, unpack::q6_k, tile_q6_k
);

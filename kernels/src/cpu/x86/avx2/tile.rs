//! AVX2 tile kernels (see [`crate::cpu::tile`]): [`R`] unpacked weight rows × [`T`]
//! prepared activation rows, each pair computed with the f32 operations of this tier's
//! single-row kernel (one block per step, eight-lane FMA accumulator), the integer sums
//! exact. With 16 vector registers, the rows are taken two at a time.

// Block, row and activation indices address several arrays at once.
#![allow(clippy::needless_range_loop)]

use super::hsum_ps;
use super::q8_0::widen_i8;
use crate::cpu::tile::{Acts, Panel, R, T};
use core::arch::x86_64::*;

/// Rows per pass over the blocks.
const RR: usize = 2;

/// Loads 32 bytes.
#[inline]
#[target_feature(enable = "avx2")]
fn load32<U: bytemuck::Pod>(b: &[U; 32]) -> __m256i {
    const { assert!(size_of::<U>() == 1) };
    // SAFETY: `b` is 32 readable bytes; `loadu` has no alignment requirement.
    unsafe { _mm256_loadu_si256(b.as_ptr().cast()) }
}

/// Loads 16 i16.
#[inline]
#[target_feature(enable = "avx2")]
fn load_i16x16(b: &[i16; 16]) -> __m256i {
    // SAFETY: `b` is 32 readable bytes; `loadu` has no alignment requirement.
    unsafe { _mm256_loadu_si256(b.as_ptr().cast()) }
}

/// `Σ_blocks (d_w·d_a)·Σ (q - OFF)·y [+ m_w·s_a]` for 32-element blocks with unsigned
/// quants of at most 5 bits (Q4_0: OFF 8, Q4_1 and Q5_1: MIN, Q5_0: OFF 16).
#[inline]
#[target_feature(enable = "avx2,fma,f16c")]
fn legacy<const OFF: i8, const MIN: bool>(
    p: &Panel<'_>,
    a: &Acts<'_>,
    ts: [usize; T],
    out: &mut [[f32; R]; T],
) {
    let nb = a.nb;
    let len = nb * 32;
    let aq: [&[[i8; 32]]; T] =
        std::array::from_fn(|i| a.q[ts[i] * len..(ts[i] + 1) * len].as_chunks().0);
    let ad: [&[f32]; T] = std::array::from_fn(|i| &a.d[ts[i] * nb..(ts[i] + 1) * nb]);
    let off = _mm256_set1_epi8(OFF);
    let ones = _mm256_set1_epi16(1);
    for r0 in (0..R).step_by(RR) {
        let wq: [&[[u8; 32]]; RR] = std::array::from_fn(|r| {
            let r = r0 + r;
            p.q[r * len..(r + 1) * len].as_chunks().0
        });
        let wd: [&[f32]; RR] = std::array::from_fn(|r| &p.d[(r0 + r) * nb..(r0 + r + 1) * nb]);
        let mut acc = [[_mm256_setzero_ps(); T]; RR];
        for b in 0..nb {
            let y: [__m256i; T] = std::array::from_fn(|i| load32(&aq[i][b]));
            let moff: [__m256i; T] = std::array::from_fn(|i| {
                if OFF != 0 {
                    _mm256_maddubs_epi16(off, y[i])
                } else {
                    _mm256_setzero_si256()
                }
            });
            for r in 0..RR {
                let q = load32(&wq[r][b]);
                let dw = _mm256_set1_ps(wd[r][b]);
                for i in 0..T {
                    let mut pr = _mm256_maddubs_epi16(q, y[i]);
                    if OFF != 0 {
                        pr = _mm256_sub_epi16(pr, moff[i]);
                    }
                    let s = _mm256_madd_epi16(pr, ones);
                    let d = _mm256_mul_ps(dw, _mm256_set1_ps(ad[i][b]));
                    acc[r][i] = _mm256_fmadd_ps(d, _mm256_cvtepi32_ps(s), acc[r][i]);
                }
            }
        }
        for i in 0..T {
            for r in 0..RR {
                out[i][r0 + r] = hsum_ps(acc[r][i]);
            }
        }
    }
    if MIN {
        let mut mins = [_mm_setzero_ps(); T];
        for b in 0..nb {
            add_mins(p, a, ts, b, &mut mins);
        }
        for (o, m) in out.iter_mut().zip(mins) {
            let mut v = [0f32; R];
            // SAFETY: `v` is 4 writable f32.
            unsafe { _mm_storeu_ps(v.as_mut_ptr(), m) };
            for (o, v) in o.iter_mut().zip(v) {
                *o += v;
            }
        }
    }
}

/// Q8_0: both sides widened to i16 and multiplied with `madd`, as the single-row kernel.
#[inline]
#[target_feature(enable = "avx2,fma,f16c")]
fn q8_0(p: &Panel<'_>, a: &Acts<'_>, ts: [usize; T], out: &mut [[f32; R]; T]) {
    let nb = a.nb;
    let len = nb * 32;
    let aq: [&[[i8; 32]]; T] =
        std::array::from_fn(|i| a.q[ts[i] * len..(ts[i] + 1) * len].as_chunks().0);
    let ad: [&[f32]; T] = std::array::from_fn(|i| &a.d[ts[i] * nb..(ts[i] + 1) * nb]);
    let bias = _mm256_set1_epi8(i8::MIN);
    for r0 in (0..R).step_by(RR) {
        let wq: [&[[u8; 32]]; RR] = std::array::from_fn(|r| {
            let r = r0 + r;
            p.q[r * len..(r + 1) * len].as_chunks().0
        });
        let wd: [&[f32]; RR] = std::array::from_fn(|r| &p.d[(r0 + r) * nb..(r0 + r + 1) * nb]);
        let mut acc = [[_mm256_setzero_ps(); T]; RR];
        for b in 0..nb {
            for r in 0..RR {
                let (xl, xh) = widen_i8(_mm256_xor_si256(load32(&wq[r][b]), bias));
                let dw = _mm256_set1_ps(wd[r][b]);
                for i in 0..T {
                    let (yl, yh) = widen_i8(load32(&aq[i][b]));
                    let s = _mm256_add_epi32(_mm256_madd_epi16(xl, yl), _mm256_madd_epi16(xh, yh));
                    let d = _mm256_mul_ps(dw, _mm256_set1_ps(ad[i][b]));
                    acc[r][i] = _mm256_fmadd_ps(d, _mm256_cvtepi32_ps(s), acc[r][i]);
                }
            }
        }
        for i in 0..T {
            for r in 0..RR {
                out[i][r0 + r] = hsum_ps(acc[r][i]);
            }
        }
    }
}

/// K-quants, as the single-row AVX2 kernels: per 32-element group `maddubs`, then
/// `madd` with the group's i16 scales, summed into eight i32 lanes per block.
#[inline]
#[target_feature(enable = "avx2,fma,f16c")]
fn k_quant<const OFF32: bool, const MIN: bool>(
    p: &Panel<'_>,
    a: &Acts<'_>,
    ts: [usize; T],
    out: &mut [[f32; R]; T],
) {
    let nb = a.nb;
    let len = nb * 256;
    let aq: [&[[i8; 32]]; T] =
        std::array::from_fn(|i| a.q[ts[i] * len..(ts[i] + 1) * len].as_chunks().0);
    let ad: [&[f32]; T] = std::array::from_fn(|i| &a.d[ts[i] * nb..(ts[i] + 1) * nb]);
    let k32 = _mm256_set1_epi8(32);
    for r0 in (0..R).step_by(RR) {
        let wq: [&[[u8; 32]]; RR] = std::array::from_fn(|r| {
            let r = r0 + r;
            p.q[r * len..(r + 1) * len].as_chunks().0
        });
        let wsc: [&[[i16; 16]]; RR] = std::array::from_fn(|r| {
            let r = r0 + r;
            p.sc[r * nb * 128..(r + 1) * nb * 128].as_chunks().0
        });
        let mut acc = [[_mm256_setzero_ps(); T]; RR];
        for b in 0..nb {
            let mut sumi = [[_mm256_setzero_si256(); T]; RR];
            for g in 0..8 {
                let c = 8 * b + g;
                for i in 0..T {
                    let y = load32(&aq[i][c]);
                    let m32 = if OFF32 {
                        _mm256_maddubs_epi16(k32, y)
                    } else {
                        _mm256_setzero_si256()
                    };
                    for r in 0..RR {
                        let mut pr = _mm256_maddubs_epi16(load32(&wq[r][c]), y);
                        if OFF32 {
                            pr = _mm256_sub_epi16(pr, m32);
                        }
                        let sc = load_i16x16(&wsc[r][c]);
                        sumi[r][i] = _mm256_add_epi32(sumi[r][i], _mm256_madd_epi16(pr, sc));
                    }
                }
            }
            for r in 0..RR {
                let dw = _mm256_set1_ps(p.d[(r0 + r) * nb + b]);
                for i in 0..T {
                    let d = _mm256_mul_ps(dw, _mm256_set1_ps(ad[i][b]));
                    acc[r][i] = _mm256_fmadd_ps(d, _mm256_cvtepi32_ps(sumi[r][i]), acc[r][i]);
                }
            }
        }
        for i in 0..T {
            for r in 0..RR {
                out[i][r0 + r] = hsum_ps(acc[r][i]);
            }
        }
    }
    if MIN {
        let mut mins = [[0f32; T]; R];
        for b in 0..nb {
            k_mins(p, a, ts, b, &mut mins);
        }
        for (i, o) in out.iter_mut().enumerate() {
            for (r, o) in o.iter_mut().enumerate() {
                *o -= mins[r][i];
            }
        }
    }
}

/// Loads 8 i16.
#[inline]
#[target_feature(enable = "avx2")]
pub(crate) fn load_i16x8(b: &[i16; 8]) -> __m128i {
    // SAFETY: `b` is 16 readable bytes; `loadu` has no alignment requirement.
    unsafe { _mm_loadu_si128(b.as_ptr().cast()) }
}

/// Loads 4 f32.
#[inline]
#[target_feature(enable = "avx2")]
pub(crate) fn load_f32x4(b: &[f32; 4]) -> __m128 {
    // SAFETY: `b` is 4 readable f32; `loadu` has no alignment requirement.
    unsafe { _mm_loadu_ps(b.as_ptr()) }
}

/// Sum of the four i32 lanes (exact, wrapping).
#[inline]
#[target_feature(enable = "avx2")]
pub(crate) fn hsum_epi32(v: __m128i) -> i32 {
    let v = _mm_add_epi32(v, _mm_unpackhi_epi64(v, v));
    let v = _mm_add_epi32(v, _mm_shuffle_epi32::<0b01>(v));
    _mm_cvtsi128_si32(v)
}

/// `mins[i][r] += m[r][b]·s[t_i][b]` for block `b` (rows in the lanes).
#[inline]
#[target_feature(enable = "avx2")]
pub(crate) fn add_mins(
    p: &Panel<'_>,
    a: &Acts<'_>,
    ts: [usize; T],
    b: usize,
    mins: &mut [__m128; T],
) {
    const { assert!(R == 4) };
    let mw = load_f32x4(p.m[b * R..].first_chunk().unwrap_or(&[0.0; 4]));
    for i in 0..T {
        let s = _mm_set1_ps(a.s[ts[i] * a.nb + b]);
        mins[i] = _mm_add_ps(mins[i], _mm_mul_ps(mw, s));
    }
}

/// `mins[r][i] += (dmin[r]·d_a)·Σ_j m_j·(bsum_2j + bsum_2j+1)` for block `b`.
#[inline]
#[target_feature(enable = "avx2")]
pub(crate) fn k_mins(
    p: &Panel<'_>,
    a: &Acts<'_>,
    ts: [usize; T],
    b: usize,
    mins: &mut [[f32; T]; R],
) {
    let nb = a.nb;
    let bs: [__m128i; T] = std::array::from_fn(|i| {
        load_i16x8(
            a.bsum[(ts[i] * nb + b) * 8..]
                .first_chunk()
                .unwrap_or(&[0; 8]),
        )
    });
    for (r, row) in mins.iter_mut().enumerate() {
        let m = load_i16x8(p.mins[(r * nb + b) * 8..].first_chunk().unwrap_or(&[0; 8]));
        let dmin = p.dmin[r * nb + b];
        for (i, v) in row.iter_mut().enumerate() {
            let summ = hsum_epi32(_mm_madd_epi16(m, bs[i]));
            *v += (dmin * a.d[ts[i] * nb + b]) * summ as f32;
        }
    }
}

macro_rules! tile_fn {
    ($(#[$doc:meta])* $name:ident = $($core:tt)+) => {
        $(#[$doc])*
        ///
        /// # Safety
        /// The CPU must support AVX2, FMA and F16C; see [`crate::cpu::tile::TileFn`] for
        /// the operands.
        #[target_feature(enable = "avx2,fma,f16c")]
        pub unsafe fn $name(p: &Panel<'_>, a: &Acts<'_>, ts: [usize; T], out: &mut [[f32; R]; T]) {
            $($core)+(p, a, ts, out)
        }
    };
}

tile_fn!(
    /// Q4_0 tile, as [`super::vec_dot_q4_0_q8_0`] per pair.
    tile_q4_0 = legacy::<8, false>
);
tile_fn!(
    /// Q4_1 tile, as [`super::vec_dot_q4_1_q8_1`] per pair.
    tile_q4_1 = legacy::<0, true>
);
tile_fn!(
    /// Q5_0 tile, as [`super::vec_dot_q5_0_q8_0`] per pair.
    tile_q5_0 = legacy::<16, false>
);
tile_fn!(
    /// Q5_1 tile, as [`super::vec_dot_q5_1_q8_1`] per pair.
    tile_q5_1 = legacy::<0, true>
);
tile_fn!(
    /// Q8_0 tile, as [`super::vec_dot_q8_0_q8_0`] per pair.
    tile_q8_0 = q8_0
);
tile_fn!(
    /// Q4_K tile, as [`super::vec_dot_q4_k_q8_k`] per pair.
    tile_q4_k = k_quant::<false, true>
);
tile_fn!(
    /// Q5_K tile, as [`super::vec_dot_q5_k_q8_k`] per pair.
    tile_q5_k = k_quant::<false, true>
);
tile_fn!(
    /// Q6_K tile, as [`super::vec_dot_q6_k_q8_k`] per pair.
    tile_q6_k = k_quant::<true, false>
);

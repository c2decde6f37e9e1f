//! AVX-512 VNNI tile kernels (see [`crate::cpu::tile`]): [`R`] unpacked weight rows ×
//! [`T`] prepared activation rows.
//!
//! Legacy types follow this tier's single-row kernels exactly: two blocks per 512-bit
//! step, integer sums by `vpdpbusd` into per-lane i32, one FMA per step into a 16-lane
//! f32 accumulator, a trailing odd block in 256-bit form, the same final reduction. The
//! K-quants follow the AVX2 single-row kernels this tier uses for them: the integer
//! sums of two 32-element groups are formed per 512-bit step (`vpdpwssd` applies the
//! sub-block scales) and folded to the same eight i32 lanes, then the f32 work is the
//! AVX2 kernels' own.

// Block, row and activation indices address several arrays at once.
#![allow(clippy::needless_range_loop)]

use super::join_ps;
use crate::cpu::tile::{Acts, Panel, R, T};
use crate::cpu::x86::avx2::hsum_ps;
use crate::cpu::x86::avx2::tile::{add_mins, k_mins};
use core::arch::x86_64::*;

/// Loads 64 bytes.
#[inline]
#[target_feature(enable = "avx512f")]
fn load64<U: bytemuck::Pod>(b: &[U; 64]) -> __m512i {
    const { assert!(size_of::<U>() == 1) };
    // SAFETY: `b` is 64 readable bytes; `loadu` has no alignment requirement.
    unsafe { _mm512_loadu_si512(b.as_ptr().cast()) }
}

/// Loads 32 i16.
#[inline]
#[target_feature(enable = "avx512f")]
fn load_i16x32(b: &[i16; 32]) -> __m512i {
    // SAFETY: `b` is 64 readable bytes; `loadu` has no alignment requirement.
    unsafe { _mm512_loadu_si512(b.as_ptr().cast()) }
}

/// Loads 32 bytes.
#[inline]
#[target_feature(enable = "avx2")]
fn load32<U: bytemuck::Pod>(b: &[U; 32]) -> __m256i {
    const { assert!(size_of::<U>() == 1) };
    // SAFETY: `b` is 32 readable bytes; `loadu` has no alignment requirement.
    unsafe { _mm256_loadu_si256(b.as_ptr().cast()) }
}

/// `Σ_blocks (d_w·d_a)·Σ (q - OFF)·y [+ m_w·s_a]` for 32-element blocks, `OFF` as an
/// unsigned byte (0: none, -128: Q8_0's bias of 128), `MIN`: add the `m·s` terms (Q4_1).
#[inline]
#[target_feature(enable = "avx512f,avx512bw,avx512vl,avx512vnni,avx2,fma,f16c")]
fn legacy<const OFF: i8, const MIN: bool>(
    p: &Panel<'_>,
    a: &Acts<'_>,
    ts: [usize; T],
    out: &mut [[f32; R]; T],
) {
    let nb = a.nb;
    let len = nb * 32;
    let wq: [&[[u8; 64]]; R] = std::array::from_fn(|r| p.q[r * len..(r + 1) * len].as_chunks().0);
    let wd: [&[f32]; R] = std::array::from_fn(|r| &p.d[r * nb..(r + 1) * nb]);
    let aq: [&[[i8; 64]]; T] =
        std::array::from_fn(|i| a.q[ts[i] * len..(ts[i] + 1) * len].as_chunks().0);
    let ad: [&[f32]; T] = std::array::from_fn(|i| &a.d[ts[i] * nb..(ts[i] + 1) * nb]);
    let zero = _mm512_setzero_si512();
    let off = _mm512_set1_epi8(OFF);
    let mut acc = [[_mm512_setzero_ps(); T]; R];
    let mut mins = [_mm_setzero_ps(); T];
    for pi in 0..nb / 2 {
        let b = 2 * pi;
        let y: [__m512i; T] = std::array::from_fn(|i| load64(&aq[i][pi]));
        let init: [__m512i; T] = std::array::from_fn(|i| {
            if OFF != 0 {
                _mm512_sub_epi32(zero, _mm512_dpbusd_epi32(zero, off, y[i]))
            } else {
                zero
            }
        });
        let da: [__m512; T] = std::array::from_fn(|i| join_ps(ad[i][b], ad[i][b + 1]));
        for r in 0..R {
            let q = load64(&wq[r][pi]);
            let dw = join_ps(wd[r][b], wd[r][b + 1]);
            for i in 0..T {
                let s = _mm512_dpbusd_epi32(init[i], q, y[i]);
                let d = _mm512_mul_ps(dw, da[i]);
                acc[r][i] = _mm512_fmadd_ps(d, _mm512_cvtepi32_ps(s), acc[r][i]);
            }
        }
        if MIN {
            add_mins(p, a, ts, b, &mut mins);
            add_mins(p, a, ts, b + 1, &mut mins);
        }
    }
    let mut tail = [[_mm256_setzero_ps(); T]; R];
    if nb % 2 == 1 {
        let b = nb - 1;
        let z = _mm256_setzero_si256();
        let off = _mm256_set1_epi8(OFF);
        let y: [__m256i; T] = std::array::from_fn(|i| {
            load32(
                a.q[(ts[i] * nb + b) * 32..]
                    .first_chunk()
                    .unwrap_or(&[0; 32]),
            )
        });
        let init: [__m256i; T] = std::array::from_fn(|i| {
            if OFF != 0 {
                _mm256_sub_epi32(z, _mm256_dpbusd_epi32(z, off, y[i]))
            } else {
                z
            }
        });
        for r in 0..R {
            let q = load32(p.q[(r * nb + b) * 32..].first_chunk().unwrap_or(&[0; 32]));
            for i in 0..T {
                let s = _mm256_dpbusd_epi32(init[i], q, y[i]);
                let d = _mm256_set1_ps(wd[r][b] * ad[i][b]);
                tail[r][i] = _mm256_fmadd_ps(d, _mm256_cvtepi32_ps(s), _mm256_setzero_ps());
            }
        }
        if MIN {
            add_mins(p, a, ts, b, &mut mins);
        }
    }
    for i in 0..T {
        let mut m = [0f32; R];
        if MIN {
            // SAFETY: `m` is 4 writable f32.
            unsafe { _mm_storeu_ps(m.as_mut_ptr(), mins[i]) };
        }
        for r in 0..R {
            let v = _mm512_reduce_add_ps(acc[r][i]) + hsum_ps(tail[r][i]);
            out[i][r] = if MIN { v + m[r] } else { v };
        }
    }
}

/// K-quants (256-element blocks): `Σ_blocks (d·d_a)·Σ_j sc_j·Σ (q - 32·OFF32)·y
/// [- (dmin·d_a)·Σ_j m_j·bsum_j]`, as the AVX2 single-row kernels compute it.
#[inline]
#[target_feature(enable = "avx512f,avx512bw,avx512vl,avx512vnni,avx2,fma,f16c")]
fn k_quant<const OFF32: bool, const MIN: bool>(
    p: &Panel<'_>,
    a: &Acts<'_>,
    ts: [usize; T],
    out: &mut [[f32; R]; T],
) {
    let nb = a.nb;
    let len = nb * 256;
    let wq: [&[[u8; 64]]; R] = std::array::from_fn(|r| p.q[r * len..(r + 1) * len].as_chunks().0);
    let wsc: [&[[i16; 32]]; R] =
        std::array::from_fn(|r| p.sc[r * nb * 128..(r + 1) * nb * 128].as_chunks().0);
    let aq: [&[[i8; 64]]; T] =
        std::array::from_fn(|i| a.q[ts[i] * len..(ts[i] + 1) * len].as_chunks().0);
    let ad: [&[f32]; T] = std::array::from_fn(|i| &a.d[ts[i] * nb..(ts[i] + 1) * nb]);
    let k32 = _mm512_set1_epi8(32);
    let mut acc = [[_mm256_setzero_ps(); T]; R];
    let mut mins = [[0f32; T]; R];
    for b in 0..nb {
        let mut sumi = [[_mm512_setzero_si512(); T]; R];
        for g2 in 0..4 {
            let c = 4 * b + g2;
            let y: [__m512i; T] = std::array::from_fn(|i| load64(&aq[i][c]));
            let m32: [__m512i; T] = std::array::from_fn(|i| {
                if OFF32 {
                    _mm512_maddubs_epi16(k32, y[i])
                } else {
                    _mm512_setzero_si512()
                }
            });
            for r in 0..R {
                let q = load64(&wq[r][c]);
                let sc = load_i16x32(&wsc[r][c]);
                for i in 0..T {
                    let mut pr = _mm512_maddubs_epi16(q, y[i]);
                    if OFF32 {
                        pr = _mm512_sub_epi16(pr, m32[i]);
                    }
                    sumi[r][i] = _mm512_dpwssd_epi32(sumi[r][i], pr, sc);
                }
            }
        }
        for r in 0..R {
            let dw = _mm256_set1_ps(p.d[r * nb + b]);
            for i in 0..T {
                let v = sumi[r][i];
                let s =
                    _mm256_add_epi32(_mm512_castsi512_si256(v), _mm512_extracti64x4_epi64::<1>(v));
                let d = _mm256_mul_ps(dw, _mm256_set1_ps(ad[i][b]));
                acc[r][i] = _mm256_fmadd_ps(d, _mm256_cvtepi32_ps(s), acc[r][i]);
            }
        }
        if MIN {
            k_mins(p, a, ts, b, &mut mins);
        }
    }
    for i in 0..T {
        for r in 0..R {
            let v = hsum_ps(acc[r][i]);
            out[i][r] = if MIN { v - mins[r][i] } else { v };
        }
    }
}

macro_rules! tile_fn {
    ($(#[$doc:meta])* $name:ident = $($core:tt)+) => {
        $(#[$doc])*
        ///
        /// # Safety
        /// The CPU must support AVX-512 F/BW/VL/VNNI, AVX2, FMA and F16C; see
        /// [`crate::cpu::tile::TileFn`] for the operands.
        #[target_feature(enable = "avx512f,avx512bw,avx512vl,avx512vnni,avx2,fma,f16c")]
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
    /// Q8_0 tile, as [`super::vec_dot_q8_0_q8_0`] per pair.
    tile_q8_0 = legacy::<{ i8::MIN }, false>
);
tile_fn!(
    /// Q4_K tile, as the AVX2 `vec_dot_q4_k_q8_k` per pair.
    tile_q4_k = k_quant::<false, true>
);
tile_fn!(
    /// Q5_K tile, as the AVX2 `vec_dot_q5_k_q8_k` per pair.
    tile_q5_k = k_quant::<false, true>
);
tile_fn!(
    /// Q6_K tile, as the AVX2 `vec_dot_q6_k_q8_k` per pair.
    tile_q6_k = k_quant::<true, false>
);

//! Raw weight rows to panels of [`ROWS`] rows (see the parent module): quants
//! transposed in 4-byte units so that line `c` of a block holds quants `4c..4c + 4` of
//! every row, scales widened to one i32 or f32 lane per row.

use super::{Line, ROWS};
use core::arch::x86_64::*;
use edge_quant::k_quants::{BlockQ4K, BlockQ5K, BlockQ6K};
use edge_quant::legacy::{BlockQ4_0, BlockQ4_1, BlockQ5_0, BlockQ5_1, BlockQ8_0};

/// The blocks of each row.
fn blocks<'a, B: bytemuck::Pod>(raw: &[&'a [u8]; ROWS]) -> [&'a [B]; ROWS] {
    raw.map(|r| bytemuck::cast_slice(r))
}

/// Stores a vector to a line.
#[inline]
#[target_feature(enable = "avx512f")]
fn put(l: &mut Line, v: __m512i) {
    // SAFETY: `l` is 64 writable bytes, aligned to 64.
    unsafe { _mm512_store_si512(l.0.as_mut_ptr().cast(), v) }
}

/// Stores f32 lanes to a line.
#[inline]
#[target_feature(enable = "avx512f")]
fn put_ps(l: &mut Line, v: __m512) {
    // SAFETY: `l` is 64 writable bytes, aligned to 64.
    unsafe { _mm512_store_ps(l.0.as_mut_ptr().cast(), v) }
}

/// Stores one i32 per row to a line.
#[inline]
#[target_feature(enable = "avx512f")]
fn put_i32(l: &mut Line, v: &[i32; ROWS]) {
    // SAFETY: `v` is 64 readable bytes.
    put(l, unsafe { _mm512_loadu_si512(v.as_ptr().cast()) })
}

/// The f16 scale `f(r)` of every row, as f32 lanes.
#[inline]
#[target_feature(enable = "avx512f,f16c")]
fn f16s(f: impl Fn(usize) -> [u8; 2]) -> __m512 {
    let h: [u16; ROWS] = std::array::from_fn(|r| u16::from_le_bytes(f(r)));
    // SAFETY: `h` is 32 readable bytes.
    _mm512_cvtph_ps(unsafe { _mm256_loadu_si256(h.as_ptr().cast()) })
}

/// Sixteen bytes `f(r)` of every row, transposed: vector `c` holds bytes `4c..4c + 4`
/// of row `r` in i32 lane `r`.
#[inline]
#[target_feature(enable = "avx512f")]
fn transpose<'a>(f: impl Fn(usize) -> &'a [u8; 16]) -> [__m512i; 4] {
    let ld = |r: usize| {
        // SAFETY: 16 readable bytes.
        unsafe { _mm_loadu_si128(f(r).as_ptr().cast()) }
    };
    // `z[j]` holds row `4L + j` in 128-bit lane `L`.
    let z: [__m512i; 4] = std::array::from_fn(|j| {
        let v = _mm512_castsi128_si512(ld(j));
        let v = _mm512_inserti32x4::<1>(v, ld(4 + j));
        let v = _mm512_inserti32x4::<2>(v, ld(8 + j));
        _mm512_inserti32x4::<3>(v, ld(12 + j))
    });
    // A 4×4 transpose of i32 within each 128-bit lane.
    let t0 = _mm512_unpacklo_epi32(z[0], z[1]);
    let t1 = _mm512_unpackhi_epi32(z[0], z[1]);
    let t2 = _mm512_unpacklo_epi32(z[2], z[3]);
    let t3 = _mm512_unpackhi_epi32(z[2], z[3]);
    [
        _mm512_unpacklo_epi64(t0, t2),
        _mm512_unpackhi_epi64(t0, t2),
        _mm512_unpacklo_epi64(t1, t3),
        _mm512_unpackhi_epi64(t1, t3),
    ]
}

/// The low and high nibbles of every byte.
#[inline]
#[target_feature(enable = "avx512f,avx512bw")]
fn nibbles(v: __m512i) -> (__m512i, __m512i) {
    let m = _mm512_set1_epi8(15);
    (
        _mm512_and_si512(v, m),
        _mm512_and_si512(_mm512_srli_epi16::<4>(v), m),
    )
}

/// Quants of 32-element blocks stored as 16 bytes of nibbles (low nibbles are elements
/// 0..16, high nibbles 16..32): the vectors of lines 0..8 of the block.
#[inline]
#[target_feature(enable = "avx512f,avx512bw")]
fn nibble_block<'a>(f: impl Fn(usize) -> &'a [u8; 16]) -> [__m512i; 8] {
    let q = transpose(f);
    let mut v = [_mm512_setzero_si512(); 8];
    for c in 0..4 {
        (v[c], v[4 + c]) = nibbles(q[c]);
    }
    v
}

/// Q4_0: 9 lines per block (quants, `d`).
///
/// # Safety
/// The CPU must support AVX-512 F/BW and F16C; each row holds `nb` Q4_0 blocks and `out`
/// `nb · 9` lines.
#[target_feature(enable = "avx512f,avx512bw,f16c")]
pub(super) unsafe fn q4_0(raw: &[&[u8]; ROWS], nb: usize, out: &mut [Line]) {
    let rows = blocks::<BlockQ4_0>(raw);
    for (b, o) in out.chunks_exact_mut(9).take(nb).enumerate() {
        let v = nibble_block(|r| &rows[r][b].qs);
        for (l, v) in o.iter_mut().zip(v) {
            put(l, v);
        }
        put_ps(&mut o[8], f16s(|r| rows[r][b].d));
    }
}

/// Q4_1: 10 lines per block (quants, `d`, `m`).
///
/// # Safety
/// As [`q4_0`], for Q4_1 blocks and `nb · 10` lines.
#[target_feature(enable = "avx512f,avx512bw,f16c")]
pub(super) unsafe fn q4_1(raw: &[&[u8]; ROWS], nb: usize, out: &mut [Line]) {
    let rows = blocks::<BlockQ4_1>(raw);
    for (b, o) in out.chunks_exact_mut(10).take(nb).enumerate() {
        let v = nibble_block(|r| &rows[r][b].qs);
        for (l, v) in o.iter_mut().zip(v) {
            put(l, v);
        }
        put_ps(&mut o[8], f16s(|r| rows[r][b].d));
        put_ps(&mut o[9], f16s(|r| rows[r][b].m));
    }
}

/// Quants of 32-element blocks with a fifth bit per element (Q5_0, Q5_1): the nibbles
/// of `qs(r)` with bit `i` of the little-endian `qh(r)` word as bit 4 of element `i`,
/// stored to lines 0..8 of the block.
#[inline]
#[target_feature(enable = "avx512f,avx512bw")]
fn fifth_bit_block<'a>(
    qs: impl Fn(usize) -> &'a [u8; 16],
    qh: impl Fn(usize) -> [u8; 4],
    o: &mut [Line],
) {
    let four = _mm512_set1_epi32(15);
    // Spreads bits 0..4 of each i32 to bit 4 of its four bytes (no two partial
    // products overlap, so no carries).
    let spread = _mm512_set1_epi32(0x0204_0810);
    let bit4 = _mm512_set1_epi32(0x1010_1010);
    let v = nibble_block(qs);
    let qh: [i32; ROWS] = std::array::from_fn(|r| i32::from_le_bytes(qh(r)));
    // SAFETY: `qh` is 64 readable bytes.
    let h = unsafe { _mm512_loadu_si512(qh.as_ptr().cast()) };
    for (c, (l, v)) in o.iter_mut().zip(v).enumerate() {
        let bits = _mm512_and_si512(_mm512_srl_epi32(h, _mm_cvtsi32_si128(4 * c as i32)), four);
        let hi = _mm512_and_si512(_mm512_mullo_epi32(bits, spread), bit4);
        put(l, _mm512_or_si512(v, hi));
    }
}

/// Q5_0: 9 lines per block (quants with their fifth bit, `d`).
///
/// # Safety
/// As [`q4_0`], for Q5_0 blocks.
#[target_feature(enable = "avx512f,avx512bw,f16c")]
pub(super) unsafe fn q5_0(raw: &[&[u8]; ROWS], nb: usize, out: &mut [Line]) {
    let rows = blocks::<BlockQ5_0>(raw);
    for (b, o) in out.chunks_exact_mut(9).take(nb).enumerate() {
        fifth_bit_block(|r| &rows[r][b].qs, |r| rows[r][b].qh, o);
        put_ps(&mut o[8], f16s(|r| rows[r][b].d));
    }
}

/// Q5_1: 10 lines per block (quants with their fifth bit, `d`, `m`).
///
/// # Safety
/// As [`q4_0`], for Q5_1 blocks and `nb · 10` lines.
#[target_feature(enable = "avx512f,avx512bw,f16c")]
pub(super) unsafe fn q5_1(raw: &[&[u8]; ROWS], nb: usize, out: &mut [Line]) {
    let rows = blocks::<BlockQ5_1>(raw);
    for (b, o) in out.chunks_exact_mut(10).take(nb).enumerate() {
        fifth_bit_block(|r| &rows[r][b].qs, |r| rows[r][b].qh, o);
        put_ps(&mut o[8], f16s(|r| rows[r][b].d));
        put_ps(&mut o[9], f16s(|r| rows[r][b].m));
    }
}

/// Q8_0: 9 lines per block (quants biased by 128, `d`).
///
/// # Safety
/// As [`q4_0`], for Q8_0 blocks.
#[target_feature(enable = "avx512f,avx512bw,f16c")]
pub(super) unsafe fn q8_0(raw: &[&[u8]; ROWS], nb: usize, out: &mut [Line]) {
    let rows = blocks::<BlockQ8_0>(raw);
    let bias = _mm512_set1_epi8(i8::MIN);
    for (b, o) in out.chunks_exact_mut(9).take(nb).enumerate() {
        for h in 0..2 {
            let q = transpose(|r| {
                let qs: &[u8; 32] = bytemuck::cast_ref(&rows[r][b].qs);
                qs[16 * h..].first_chunk().unwrap_or(&[0; 16])
            });
            for c in 0..4 {
                put(&mut o[4 * h + c], _mm512_xor_si512(q[c], bias));
            }
        }
        put_ps(&mut o[8], f16s(|r| rows[r][b].d));
    }
}

/// Bytes `16g..16g + 16` of `s`.
fn part<const N: usize>(s: &[u8; N], g: usize) -> &[u8; 16] {
    s[16 * g..].first_chunk().unwrap_or(&[0; 16])
}

/// The scale lines of Q4_K/Q5_K: `sc_j` as i32 (lines 64..72), the min pairs
/// `m_2g | m_2g+1 << 16` (lines 72..76), then `d` and `dmin`.
#[inline]
#[target_feature(enable = "avx512f,f16c")]
fn k_scales(o: &mut [Line], sm: impl Fn(usize, usize) -> (u8, u8), d: __m512, dmin: __m512) {
    let all: [[(u8, u8); 8]; ROWS] = std::array::from_fn(|r| std::array::from_fn(|j| sm(r, j)));
    for j in 0..8 {
        put_i32(
            &mut o[64 + j],
            &std::array::from_fn(|r| i32::from(all[r][j].0)),
        );
    }
    for g in 0..4 {
        let pair = std::array::from_fn(|r| {
            i32::from(all[r][2 * g].1) | i32::from(all[r][2 * g + 1].1) << 16
        });
        put_i32(&mut o[72 + g], &pair);
    }
    put_ps(&mut o[76], d);
    put_ps(&mut o[77], dmin);
}

/// Q4_K: 78 lines per block (64 of quants, then [`k_scales`]).
///
/// # Safety
/// As [`q4_0`], for Q4_K blocks and `nb · 78` lines.
#[target_feature(enable = "avx512f,avx512bw,f16c")]
pub(super) unsafe fn q4_k(raw: &[&[u8]; ROWS], nb: usize, out: &mut [Line]) {
    let rows = blocks::<BlockQ4K>(raw);
    for (b, o) in out.chunks_exact_mut(78).take(nb).enumerate() {
        // Sub-blocks 2h and 2h + 1 are the low and high nibbles of qs[32h..32h + 32].
        for g in 0..8 {
            let q = transpose(|r| part(&rows[r][b].qs, g));
            let (h, i0) = (g / 2, 4 * (g % 2));
            for c in 0..4 {
                let (lo, hi) = nibbles(q[c]);
                put(&mut o[16 * h + i0 + c], lo);
                put(&mut o[16 * h + 8 + i0 + c], hi);
            }
        }
        let d = f16s(|r| rows[r][b].d);
        let dmin = f16s(|r| rows[r][b].dmin);
        k_scales(o, |r, j| rows[r][b].scale_min(j), d, dmin);
    }
}

/// Q5_K: as [`q4_k`], with each quant's fifth bit from `qh`.
///
/// # Safety
/// As [`q4_0`], for Q5_K blocks and `nb · 78` lines.
#[target_feature(enable = "avx512f,avx512bw,f16c")]
pub(super) unsafe fn q5_k(raw: &[&[u8]; ROWS], nb: usize, out: &mut [Line]) {
    let rows = blocks::<BlockQ5K>(raw);
    let ones = _mm512_set1_epi8(1);
    for (b, o) in out.chunks_exact_mut(78).take(nb).enumerate() {
        // qh[l] bit j is the fifth bit of element l of sub-block j.
        let h0 = transpose(|r| part(&rows[r][b].qh, 0));
        let h1 = transpose(|r| part(&rows[r][b].qh, 1));
        let qh: [__m512i; 8] = std::array::from_fn(|i| if i < 4 { h0[i] } else { h1[i - 4] });
        for g in 0..8 {
            let q = transpose(|r| part(&rows[r][b].qs, g));
            let (h, i0) = (g / 2, 4 * (g % 2));
            for c in 0..4 {
                let (lo, hi) = nibbles(q[c]);
                let i = i0 + c;
                for (j, v) in [(2 * h, lo), (2 * h + 1, hi)] {
                    let bit = _mm512_and_si512(
                        _mm512_srl_epi32(qh[i], _mm_cvtsi32_si128(j as i32)),
                        ones,
                    );
                    put(
                        &mut o[8 * j + i],
                        _mm512_or_si512(v, _mm512_slli_epi32::<4>(bit)),
                    );
                }
            }
        }
        let d = f16s(|r| rows[r][b].d);
        let dmin = f16s(|r| rows[r][b].dmin);
        k_scales(o, |r, j| rows[r][b].scale_min(j), d, dmin);
    }
}

/// Q6_K: 89 lines per block: 64 of quants (0..64, unbiased), the 16 scales as i32
/// (64..80), the scale pairs `sc_2g | sc_2g+1 << 16` as i16 (80..88), `d` (88).
///
/// # Safety
/// As [`q4_0`], for Q6_K blocks and `nb · 89` lines.
#[target_feature(enable = "avx512f,avx512bw,f16c")]
pub(super) unsafe fn q6_k(raw: &[&[u8]; ROWS], nb: usize, out: &mut [Line]) {
    let rows = blocks::<BlockQ6K>(raw);
    let three = _mm512_set1_epi8(3);
    for (b, o) in out.chunks_exact_mut(89).take(nb).enumerate() {
        // Element 128h + 32s + l: low bits from ql[64h + 32(s % 2) + l] (nibble s / 2),
        // high bits from qh[32h + l] (bits 2s, 2s + 1).
        let qh: [[__m512i; 4]; 4] = std::array::from_fn(|g| transpose(|r| part(&rows[r][b].qh, g)));
        for g in 0..8 {
            let q = transpose(|r| part(&rows[r][b].ql, g));
            // ql dwords 4g..4g + 4: h = g / 4, s % 2 = (g / 2) % 2, i = 4(g % 2) + c.
            let (h, s2) = (g / 4, (g / 2) % 2);
            for c in 0..4 {
                let i = 4 * (g % 2) + c;
                let hv = qh[(8 * h + i) / 4][(8 * h + i) % 4];
                let (lo, hi) = nibbles(q[c]);
                for (s, v) in [(s2, lo), (s2 + 2, hi)] {
                    let bits = _mm512_and_si512(
                        _mm512_srl_epi32(hv, _mm_cvtsi32_si128(2 * s as i32)),
                        three,
                    );
                    let k = 32 * h + 8 * s + i;
                    put(&mut o[k], _mm512_or_si512(v, _mm512_slli_epi32::<4>(bits)));
                }
            }
        }
        let sc: [[i8; 16]; ROWS] =
            std::array::from_fn(|r| std::array::from_fn(|j| rows[r][b].scale(j)));
        for j in 0..16 {
            put_i32(
                &mut o[64 + j],
                &std::array::from_fn(|r| i32::from(sc[r][j])),
            );
        }
        for g in 0..8 {
            let pair = std::array::from_fn(|r| {
                i32::from(sc[r][2 * g] as i16 as u16) | i32::from(sc[r][2 * g + 1]) << 16
            });
            put_i32(&mut o[80 + g], &pair);
        }
        put_ps(&mut o[88], f16s(|r| rows[r][b].d));
    }
}

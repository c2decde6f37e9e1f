//! Rows of 4-bit (and 5-bit) weights times a prepared activation row.

use super::prepare::NibbleGroup;
use super::Layout;
use core::arch::x86_64::*;

/// `out[r] = Σ_blocks d_w·d_a·Σ (q - off)·y [+ m_w·s_a]` for every row `r` of `w`.
///
/// # Safety
/// The CPU must support AVX-512 F/BW/VL/VNNI, AVX2, FMA and F16C; `w` holds
/// `out.len()` rows of `nb` blocks of layout `L`; `groups` holds `nb.div_ceil(4)`
/// groups prepared for `L`.
#[target_feature(enable = "avx512f,avx512bw,avx512vl,avx512vnni,avx2,fma,f16c")]
pub(super) unsafe fn rows<L: Layout>(w: &[u8], nb: usize, groups: &[NibbleGroup], out: &mut [f32]) {
    let row_bytes = nb * L::BYTES;
    let (full, rem) = (nb / 4, nb % 4);
    debug_assert!(w.len() >= row_bytes * out.len() && groups.len() >= nb.div_ceil(4));
    for (r, o) in out.iter_mut().enumerate() {
        let row = &w[r * row_bytes..(r + 1) * row_bytes];
        let mut acc = _mm512_setzero_ps();
        let mut mins = _mm256_setzero_ps();
        for (g, blocks) in groups.iter().zip(row.chunks_exact(4 * L::BYTES)) {
            // SAFETY: `blocks` is four whole blocks; the CPU has the features.
            unsafe { group::<L, 4>(blocks.as_ptr(), g, &mut acc, &mut mins) };
        }
        // The last, partial group: the missing blocks count as zero (scale 0, quants 0),
        // as they are in the activation group.
        if let Some(g) = groups.get(full).filter(|_| rem > 0) {
            let tail = row[full * 4 * L::BYTES..].as_ptr();
            // SAFETY: `tail` starts `rem` whole blocks; the CPU has the features.
            unsafe {
                match rem {
                    1 => group::<L, 1>(tail, g, &mut acc, &mut mins),
                    2 => group::<L, 2>(tail, g, &mut acc, &mut mins),
                    _ => group::<L, 3>(tail, g, &mut acc, &mut mins),
                }
            }
        }
        let mut v = _mm512_reduce_add_ps(acc);
        if L::MIN {
            // The `m·s` terms sit in the odd lanes.
            let odd = _mm256_blend_ps::<0b1010_1010>(_mm256_setzero_ps(), mins);
            let s = _mm_add_ps(_mm256_castps256_ps128(odd), _mm256_extractf128_ps::<1>(odd));
            let s = _mm_add_ps(s, _mm_movehl_ps(s, s));
            v += _mm_cvtss_f32(_mm_add_ss(s, _mm_shuffle_ps::<1>(s, s)));
        }
        *o = v;
    }
}

/// Reads an unaligned little-endian u16 at `p + off`.
#[inline(always)]
unsafe fn u16_at(p: *const u8, off: usize) -> u64 {
    // SAFETY: the caller's promise that two bytes are readable there.
    u64::from(unsafe { p.add(off).cast::<u16>().read_unaligned() })
}

/// Reads an unaligned little-endian u32 at `p + off`.
#[inline(always)]
unsafe fn u32_at(p: *const u8, off: usize) -> u64 {
    // SAFETY: the caller's promise that four bytes are readable there.
    u64::from(unsafe { p.add(off).cast::<u32>().read_unaligned() })
}

/// Adds `K` (at most four) blocks at `p` times activation group `g` to the lanes of `acc`
/// (and their `m·s` terms to the odd lanes of `mins`); blocks past `K` count as zero.
///
/// # Safety
/// `p` points to `K` readable blocks of layout `L`; the CPU has the features of
/// [`rows`].
#[inline]
#[target_feature(enable = "avx512f,avx512bw,avx512vl,avx512vnni,avx2,fma,f16c")]
unsafe fn group<L: Layout, const K: usize>(
    p: *const u8,
    g: &NibbleGroup,
    acc: &mut __m512,
    mins: &mut __m256,
) {
    let nib = _mm512_set1_epi8(0x0f);
    // SAFETY (loads): each block's 16 quant bytes are inside the four blocks at `p`; the
    // group's fields are whole 64-byte lines.
    let raw = unsafe {
        let q = |b: usize| {
            if b < K {
                _mm_loadu_si128(p.add(b * L::BYTES + L::QS).cast())
            } else {
                _mm_setzero_si128()
            }
        };
        let v = _mm512_castsi128_si512(q(0));
        let v = _mm512_inserti32x4::<1>(v, q(1));
        let v = _mm512_inserti32x4::<2>(v, q(2));
        _mm512_inserti32x4::<3>(v, q(3))
    };
    let mut lo = _mm512_and_si512(raw, nib);
    let mut hi = _mm512_and_si512(_mm512_srli_epi16::<4>(raw), nib);
    if let Some(qh) = L::QH {
        // Bit i of a block's `qh` is the fifth bit of element i: bits 0..16 go with the
        // low nibbles, 16..32 with the high ones, 16 mask bits per block.
        // SAFETY: `qh` is inside each block.
        let h = unsafe {
            [0, 1, 2, 3].map(|b| {
                if b < K {
                    u32_at(p, b * L::BYTES + qh)
                } else {
                    0
                }
            })
        };
        let klo =
            (h[0] & 0xffff) | (h[1] & 0xffff) << 16 | (h[2] & 0xffff) << 32 | (h[3] & 0xffff) << 48;
        let khi = (h[0] >> 16) | (h[1] >> 16) << 16 | (h[2] >> 16) << 32 | (h[3] >> 16) << 48;
        let sixteen = _mm512_set1_epi8(0x10);
        lo = _mm512_mask_add_epi8(lo, klo, lo, sixteen);
        hi = _mm512_mask_add_epi8(hi, khi, hi, sixteen);
    }
    // SAFETY: the group's fields are 64-byte aligned lines.
    let (ylo, yhi, bias, ds) = unsafe {
        (
            _mm512_load_si512(g.lo.as_ptr().cast()),
            _mm512_load_si512(g.hi.as_ptr().cast()),
            _mm512_load_si512(g.bias.as_ptr().cast()),
            g.ds.as_ptr(),
        )
    };
    let start = if L::OFF != 0 {
        bias
    } else {
        _mm512_setzero_si512()
    };
    let sums = _mm512_dpbusd_epi32(_mm512_dpbusd_epi32(start, lo, ylo), hi, yhi);
    let scale = if L::MIN {
        // [d0, m0, d1, m1, ...] of the weights times [d0, s0, d1, s1, ...] of the
        // activations; block b's d·d goes to lanes 4b..4b + 4.
        // SAFETY: `d` and `m` open each block; `ds` holds eight f32.
        let p8 = unsafe {
            let dm = |b: usize| if b < K { u32_at(p, b * L::BYTES) } else { 0 };
            let w = _mm_set_epi64x((dm(2) | dm(3) << 32) as i64, (dm(0) | dm(1) << 32) as i64);
            _mm256_mul_ps(_mm256_cvtph_ps(w), _mm256_loadu_ps(ds))
        };
        *mins = _mm256_add_ps(*mins, p8);
        let spread = _mm512_set_epi32(6, 6, 6, 6, 4, 4, 4, 4, 2, 2, 2, 2, 0, 0, 0, 0);
        _mm512_permutexvar_ps(spread, _mm512_castps256_ps512(p8))
    } else {
        // SAFETY: `d` opens each block; `ds` holds four f32.
        let p4 = unsafe {
            let d = |b: usize| if b < K { u16_at(p, b * L::BYTES) } else { 0 };
            let w = d(0) | d(1) << 16 | d(2) << 32 | d(3) << 48;
            _mm_mul_ps(_mm_cvtph_ps(_mm_cvtsi64_si128(w as i64)), _mm_loadu_ps(ds))
        };
        let spread = _mm512_set_epi32(3, 3, 3, 3, 2, 2, 2, 2, 1, 1, 1, 1, 0, 0, 0, 0);
        _mm512_permutexvar_ps(spread, _mm512_castps128_ps512(p4))
    };
    *acc = _mm512_fmadd_ps(_mm512_cvtepi32_ps(sums), scale, *acc);
}

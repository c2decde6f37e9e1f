//! Rows of Q8_0 weights times a prepared Q8_0 activation row.

use super::prepare::ByteGroup;
use core::arch::x86_64::*;

/// Bytes per Q8_0 block.
const BYTES: usize = 34;

/// `out[r] = Σ_blocks d_w·d_a·Σ w·y` for every row `r` of `w`.
///
/// # Safety
/// The CPU must support AVX-512 F/BW/VL/VNNI, AVX2, FMA and F16C; `w` holds
/// `out.len()` rows of `nb` Q8_0 blocks; `groups` holds `nb.div_ceil(4)` groups.
#[target_feature(enable = "avx512f,avx512bw,avx512vl,avx512vnni,avx2,fma,f16c")]
pub(super) unsafe fn rows(w: &[u8], nb: usize, groups: &[ByteGroup], out: &mut [f32]) {
    let row_bytes = nb * BYTES;
    let (full, rem) = (nb / 4, nb % 4);
    debug_assert!(w.len() >= row_bytes * out.len() && groups.len() >= nb.div_ceil(4));
    for (r, o) in out.iter_mut().enumerate() {
        let row = &w[r * row_bytes..(r + 1) * row_bytes];
        let mut acc0 = _mm512_setzero_ps();
        let mut acc1 = _mm512_setzero_ps();
        for (g, blocks) in groups.iter().zip(row.chunks_exact(4 * BYTES)) {
            // SAFETY: `blocks` is four whole blocks; the CPU has the features.
            unsafe { group::<4>(blocks.as_ptr(), g, &mut acc0, &mut acc1) };
        }
        // The last, partial group: the missing blocks count as zero (scale 0, quants 0),
        // as they are in the activation group.
        if let Some(g) = groups.get(full).filter(|_| rem > 0) {
            let tail = row[full * 4 * BYTES..].as_ptr();
            // SAFETY: `tail` starts `rem` whole blocks; the CPU has the features.
            unsafe {
                match rem {
                    1 => group::<1>(tail, g, &mut acc0, &mut acc1),
                    2 => group::<2>(tail, g, &mut acc0, &mut acc1),
                    _ => group::<3>(tail, g, &mut acc0, &mut acc1),
                }
            }
        }
        *o = _mm512_reduce_add_ps(_mm512_add_ps(acc0, acc1));
    }
}

/// Adds `K` (at most four) blocks at `p` times activation group `g`: blocks 0 and 1 to
/// the lanes of `acc0`, 2 and 3 to those of `acc1`; blocks past `K` count as zero.
///
/// # Safety
/// `p` points to `K` readable Q8_0 blocks; the CPU has the features of [`rows`].
#[inline]
#[target_feature(enable = "avx512f,avx512bw,avx512vl,avx512vnni,avx2,fma,f16c")]
unsafe fn group<const K: usize>(p: *const u8, g: &ByteGroup, acc0: &mut __m512, acc1: &mut __m512) {
    // Signed weights biased to unsigned (`w + 128`, the sign bit flipped); the lanes
    // start from `-128·Σy`, so each holds exactly `Σ w·y`.
    let flip = _mm512_set1_epi8(i8::MIN);
    // SAFETY (loads): each block's 32 quants follow its 2-byte scale inside the four
    // blocks at `p`; the group's fields are whole 64-byte lines.
    let (w01, w23, y01, y23, b01, b23) = unsafe {
        // A missing block reads as 128 after the flip: its activation quants are zero.
        let q = |b: usize| {
            if b < K {
                _mm256_loadu_si256(p.add(b * BYTES + 2).cast())
            } else {
                _mm256_setzero_si256()
            }
        };
        let pair = |b: usize| _mm512_inserti64x4::<1>(_mm512_castsi256_si512(q(b)), q(b + 1));
        (
            _mm512_xor_si512(pair(0), flip),
            _mm512_xor_si512(pair(2), flip),
            _mm512_load_si512(g.q.as_ptr().cast()),
            _mm512_load_si512(g.q.as_ptr().add(64).cast()),
            _mm512_load_si512(g.bias.as_ptr().cast()),
            _mm512_load_si512(g.bias.as_ptr().add(16).cast()),
        )
    };
    let s01 = _mm512_dpbusd_epi32(b01, w01, y01);
    let s23 = _mm512_dpbusd_epi32(b23, w23, y23);
    // SAFETY: `d` opens each block; `g.d` holds four f32.
    let p4 = unsafe {
        let d = |b: usize| {
            if b < K {
                u64::from(p.add(b * BYTES).cast::<u16>().read_unaligned())
            } else {
                0
            }
        };
        let w = d(0) | d(1) << 16 | d(2) << 32 | d(3) << 48;
        _mm_mul_ps(
            _mm_cvtph_ps(_mm_cvtsi64_si128(w as i64)),
            _mm_loadu_ps(g.d.as_ptr()),
        )
    };
    let p = _mm512_castps128_ps512(p4);
    let lo = _mm512_set_epi32(1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0);
    let hi = _mm512_set_epi32(3, 3, 3, 3, 3, 3, 3, 3, 2, 2, 2, 2, 2, 2, 2, 2);
    *acc0 = _mm512_fmadd_ps(_mm512_cvtepi32_ps(s01), _mm512_permutexvar_ps(lo, p), *acc0);
    *acc1 = _mm512_fmadd_ps(_mm512_cvtepi32_ps(s23), _mm512_permutexvar_ps(hi, p), *acc1);
}

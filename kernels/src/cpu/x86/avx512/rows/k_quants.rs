//! Rows of Q4_K, Q5_K and Q6_K weights times a prepared Q8_K activation row.
//!
//! Per 256-element block, four vectors of 64 unpacked quants each meet the prepared
//! activation in one `vpdpbusd` (a lane sums four products: at most 4·31·128 for Q5_K,
//! 4·32·128 for Q6_K with its offset folded into the lane's starting value, so every
//! lane fits in i16). Two such vectors are packed to i16 without loss (`vpackssdw`) and
//! multiplied by their sub-blocks' scales in one `vpdpwssd`; the block's exact integer
//! sum then takes one f32 FMA with `d_w·d_a`. The mins of Q4_K/Q5_K meet the
//! activation's stored sums in one `vpmaddwd` per block.

use super::prepare_k::{K6Block, KMinBlock};
use crate::cpu::x86::avx2::hsum_ps;
use core::arch::x86_64::*;
use edge_quant::k_quants::{BlockQ4K, BlockQ5K, BlockQ6K};

/// The eight 6-bit scales and the eight 6-bit mins of a Q4_K/Q5_K block, one byte per
/// sub-block (sub-block 0 in the lowest byte), as `BlockQ4K::scale_min` reads them:
/// bytes 0..4 hold scales 0..4 and bytes 4..8 mins 0..4 in their low six bits; bytes
/// 8..12 hold the low four bits of scales 4..8 (low nibble) and mins 4..8 (high
/// nibble), whose top two bits are the top bits of bytes 0..4 and 4..8.
#[inline]
fn scales_mins(q: &[u8; 12]) -> (u64, u64) {
    let word = |i: usize| u32::from_le_bytes([q[4 * i], q[4 * i + 1], q[4 * i + 2], q[4 * i + 3]]);
    let (a0, a1, a2) = (word(0), word(1), word(2));
    let low6 = 0x3f3f_3f3f;
    let top2 = 0x0303_0303;
    let sc_hi = (a2 & 0x0f0f_0f0f) | (((a0 >> 6) & top2) << 4);
    let m_hi = ((a2 >> 4) & 0x0f0f_0f0f) | (((a1 >> 6) & top2) << 4);
    (
        u64::from(a0 & low6) | (u64::from(sc_hi) << 32),
        u64::from(a1 & low6) | (u64::from(m_hi) << 32),
    )
}

/// Loads 64 bytes.
#[inline]
#[target_feature(enable = "avx512f")]
fn load64(b: &[u8; 64]) -> __m512i {
    // SAFETY: `b` is 64 readable bytes; `loadu` has no alignment requirement.
    unsafe { _mm512_loadu_si512(b.as_ptr().cast()) }
}

/// Loads 64 prepared activation quants.
#[inline]
#[target_feature(enable = "avx512f")]
fn load_y(y: &[i8; 256], v: usize) -> __m512i {
    let part: &[i8; 64] = y[64 * v..].first_chunk().unwrap_or(&[0; 64]);
    // SAFETY: `part` is 64 readable bytes; `loadu` has no alignment requirement.
    unsafe { _mm512_loadu_si512(part.as_ptr().cast()) }
}

/// `d_w·d_a` and `dmin_w·d_a` of a block whose f16 `d` and `dmin` are `dd`.
#[inline]
#[target_feature(enable = "avx512f,avx2,f16c")]
fn scales_f32(dd: u32, da: f32) -> __m128 {
    _mm_mul_ps(_mm_cvtph_ps(_mm_cvtsi32_si128(dd as i32)), _mm_set1_ps(da))
}

/// The 4-bit (and 5-bit) weights of a Q4_K/Q5_K block.
pub(super) trait KMin: bytemuck::Pod {
    /// `d` and `dmin` (two f16, little-endian) as one word.
    fn dd(&self) -> u32;
    /// The packed 6-bit scales and mins.
    fn scales(&self) -> &[u8; 12];
    /// The 128 bytes of packed nibbles.
    fn qs(&self) -> &[u8; 128];
    /// The 32 bytes of fifth bits (Q5_K).
    fn qh(&self) -> Option<&[u8; 32]>;
}

impl KMin for BlockQ4K {
    fn dd(&self) -> u32 {
        u32::from_le_bytes([self.d[0], self.d[1], self.dmin[0], self.dmin[1]])
    }
    fn scales(&self) -> &[u8; 12] {
        &self.scales
    }
    fn qs(&self) -> &[u8; 128] {
        &self.qs
    }
    fn qh(&self) -> Option<&[u8; 32]> {
        None
    }
}

impl KMin for BlockQ5K {
    fn dd(&self) -> u32 {
        u32::from_le_bytes([self.d[0], self.d[1], self.dmin[0], self.dmin[1]])
    }
    fn scales(&self) -> &[u8; 12] {
        &self.scales
    }
    fn qs(&self) -> &[u8; 128] {
        &self.qs
    }
    fn qh(&self) -> Option<&[u8; 32]> {
        Some(&self.qh)
    }
}

/// `out[r] = Σ_blocks d_w·d_a·Σ_j sc_j·Σ q·y − dmin_w·d_a·Σ_j m_j·bsum_j` for every row
/// `r` of `w` (Q4_K or Q5_K blocks `B`).
///
/// # Safety
/// The CPU must support AVX-512 F/BW/VL/VNNI, AVX2, FMA and F16C; `w` holds
/// `out.len()` rows of `nb` blocks; `prep` holds `nb` prepared blocks.
#[target_feature(enable = "avx512f,avx512bw,avx512vl,avx512vnni,avx2,fma,f16c")]
pub(super) unsafe fn rows_min<B: KMin>(w: &[u8], nb: usize, prep: &[KMinBlock], out: &mut [f32]) {
    let row_bytes = nb * size_of::<B>();
    let m4 = _mm512_set1_epi8(0x0f);
    let sixteen = _mm512_set1_epi8(16);
    // The fifth bits of vector `v` (slots of `KMinBlock::y`): sub-blocks
    // [0, 2], [1, 3], [4, 6], [5, 7] in the low and high 256 bits.
    let bits: [__m512i; 4] = std::array::from_fn(|v| {
        let j = 4 * (v / 2) + v % 2;
        super::super::join_si(
            _mm256_set1_epi8((1u8 << j) as i8),
            _mm256_set1_epi8((1u8 << (j + 2)) as i8),
        )
    });
    // The packed sums of vectors 2k, 2k + 1 hold, per 128-bit lane L, four i16 of
    // sub-block 4k + 2(L/2) then four of 4k + 1 + 2(L/2): their scales, as bytes picked
    // from the eight scales (the high byte of every i16 zero).
    let pick: [__m512i; 2] = std::array::from_fn(|k| {
        let mut c = [0x80u8 as i8; 64];
        for lane in 0..4 {
            for i in 0..8 {
                c[16 * lane + 2 * i] = (4 * k + 2 * (lane / 2) + i / 4) as i8;
            }
        }
        // SAFETY: `c` is 64 readable bytes.
        unsafe { _mm512_loadu_si512(c.as_ptr().cast()) }
    });
    debug_assert!(w.len() >= row_bytes * out.len() && prep.len() >= nb);
    for (r, o) in out.iter_mut().enumerate() {
        let row: &[B] = bytemuck::cast_slice(&w[r * row_bytes..(r + 1) * row_bytes]);
        let mut acc = _mm512_setzero_ps();
        let mut macc = _mm256_setzero_ps();
        for (bw, pa) in row.iter().zip(prep) {
            let (sc, mins) = scales_mins(bw.scales());
            let qs = bw.qs();
            let mut q = [_mm512_setzero_si512(); 4];
            for k in 0..2 {
                let raw = load64(qs[64 * k..].first_chunk().unwrap_or(&[0; 64]));
                q[2 * k] = _mm512_and_si512(raw, m4);
                q[2 * k + 1] = _mm512_and_si512(_mm512_srli_epi16::<4>(raw), m4);
            }
            if let Some(qh) = bw.qh() {
                // SAFETY: `qh` is 32 readable bytes; `loadu` has no alignment requirement.
                let hb = _mm512_broadcast_i64x4(unsafe { _mm256_loadu_si256(qh.as_ptr().cast()) });
                for (v, q) in q.iter_mut().enumerate() {
                    *q = _mm512_mask_add_epi8(*q, _mm512_test_epi8_mask(hb, bits[v]), *q, sixteen);
                }
            }
            let zero = _mm512_setzero_si512();
            let d: [__m512i; 4] =
                std::array::from_fn(|v| _mm512_dpbusd_epi32(zero, q[v], load_y(&pa.y, v)));
            let sc = _mm512_set1_epi64(sc as i64);
            let isum = _mm512_dpwssd_epi32(
                zero,
                _mm512_packs_epi32(d[0], d[1]),
                _mm512_shuffle_epi8(sc, pick[0]),
            );
            let isum = _mm512_dpwssd_epi32(
                isum,
                _mm512_packs_epi32(d[2], d[3]),
                _mm512_shuffle_epi8(sc, pick[1]),
            );
            // SAFETY: `bs` is 32 readable bytes; `loadu` has no alignment requirement.
            let bs = unsafe { _mm256_loadu_si256(pa.bs.as_ptr().cast()) };
            let msum = _mm256_madd_epi16(_mm256_cvtepu8_epi16(_mm_set1_epi64x(mins as i64)), bs);
            let f = scales_f32(bw.dd(), pa.d);
            acc = _mm512_fmadd_ps(_mm512_cvtepi32_ps(isum), _mm512_broadcastss_ps(f), acc);
            macc = _mm256_fmadd_ps(
                _mm256_cvtepi32_ps(msum),
                _mm256_broadcastss_ps(_mm_movehdup_ps(f)),
                macc,
            );
        }
        *o = _mm512_reduce_add_ps(acc) - hsum_ps(macc);
    }
}

/// `out[r] = Σ_blocks d_w·d_a·Σ_j sc_j·Σ (q − 32)·y` for every row `r` of `w` (Q6_K).
///
/// # Safety
/// The CPU must support AVX-512 F/BW/VL/VNNI, AVX2, FMA and F16C; `w` holds
/// `out.len()` rows of `nb` Q6_K blocks; `prep` holds `nb` prepared blocks.
#[target_feature(enable = "avx512f,avx512bw,avx512vl,avx512vnni,avx2,fma,f16c")]
pub(super) unsafe fn rows_q6_k(w: &[u8], nb: usize, prep: &[K6Block], out: &mut [f32]) {
    let row_bytes = nb * size_of::<BlockQ6K>();
    let m4 = _mm512_set1_epi8(0x0f);
    let m30 = _mm512_set1_epi8(0x30);
    // The packed sums of vectors 2p, 2p + 1 hold, per 128-bit lane L, four i16 of the
    // sub-block of vector 2p's lane L, then four of vector 2p + 1's; vector v's lanes
    // are sub-blocks 2v, 2v + 1, 8 + 2v, 9 + 2v.
    let pick: [__m512i; 2] = std::array::from_fn(|p| {
        let mut c = [0i16; 32];
        for lane in 0..4 {
            let sub = |v: usize| (2 * v + lane % 2 + 8 * (lane / 2)) as i16;
            for i in 0..8 {
                c[8 * lane + i] = sub(2 * p + i / 4);
            }
        }
        // SAFETY: `c` is 64 readable bytes.
        unsafe { _mm512_loadu_si512(c.as_ptr().cast()) }
    });
    debug_assert!(w.len() >= row_bytes * out.len() && prep.len() >= nb);
    for (r, o) in out.iter_mut().enumerate() {
        let row: &[BlockQ6K] = bytemuck::cast_slice(&w[r * row_bytes..(r + 1) * row_bytes]);
        let mut acc = _mm512_setzero_ps();
        for (bw, pa) in row.iter().zip(prep) {
            let l0 = load64(bw.ql[..].first_chunk().unwrap_or(&[0; 64]));
            let l1 = load64(bw.ql[64..].first_chunk().unwrap_or(&[0; 64]));
            // Bytes 0..32 of each half block's low bits: elements 32v + l, v = 0 (low
            // nibbles) or 2 (high); bytes 32..64: v = 1 or 3.
            let r0 = _mm512_shuffle_i64x2::<0b01_00_01_00>(l0, l1);
            let r1 = _mm512_shuffle_i64x2::<0b11_10_11_10>(l0, l1);
            let h = load64(&bw.qh);
            let nib = [
                _mm512_and_si512(r0, m4),
                _mm512_and_si512(r1, m4),
                _mm512_and_si512(_mm512_srli_epi16::<4>(r0), m4),
                _mm512_and_si512(_mm512_srli_epi16::<4>(r1), m4),
            ];
            // Bits 2v, 2v + 1 of each `qh` byte to bits 4, 5.
            let top = [
                _mm512_slli_epi16::<4>(h),
                _mm512_slli_epi16::<2>(h),
                h,
                _mm512_srli_epi16::<2>(h),
            ];
            let d: [__m512i; 4] = std::array::from_fn(|v| {
                let q = _mm512_ternarylogic_epi32::<0xf8>(nib[v], top[v], m30);
                // SAFETY: lanes `16v..16v + 16` of `bias` are 64 readable bytes; `loadu`
                // has no alignment requirement.
                let bias = unsafe { _mm512_loadu_si512(pa.bias[16 * v..].as_ptr().cast()) };
                _mm512_dpbusd_epi32(bias, q, load_y(&pa.y, v))
            });
            // SAFETY: `scales` is 16 readable bytes; `loadu` has no alignment requirement.
            let sc = _mm512_castsi256_si512(_mm256_cvtepi8_epi16(unsafe {
                _mm_loadu_si128(bw.scales.as_ptr().cast())
            }));
            let zero = _mm512_setzero_si512();
            let isum = _mm512_dpwssd_epi32(
                zero,
                _mm512_packs_epi32(d[0], d[1]),
                _mm512_permutexvar_epi16(pick[0], sc),
            );
            let isum = _mm512_dpwssd_epi32(
                isum,
                _mm512_packs_epi32(d[2], d[3]),
                _mm512_permutexvar_epi16(pick[1], sc),
            );
            let dw = _mm_cvtph_ps(_mm_cvtsi32_si128(i32::from(u16::from_le_bytes(bw.d))));
            let f = _mm_mul_ss(dw, _mm_set_ss(pa.d));
            acc = _mm512_fmadd_ps(_mm512_cvtepi32_ps(isum), _mm512_broadcastss_ps(f), acc);
        }
        *o = _mm512_reduce_add_ps(acc);
    }
}

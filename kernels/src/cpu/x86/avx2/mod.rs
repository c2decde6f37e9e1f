//! AVX2 + FMA + F16C kernels (Haswell and later, Zen and later).
//!
//! The integer parts follow the `maddubs`/`madd` pattern: unsigned weight quants times
//! signed activation quants into i16 pairs (never saturating for these ranges), then
//! pairs summed into i32 lanes, converted to f32 and scaled with one FMA per block.

pub(crate) mod attention;
pub(crate) mod attention_cached;
mod attention_tile;
mod f16;
mod f32;
mod iq4;
mod q2_k;
mod q3_k;
mod q4_0;
mod q4_1;
mod q4_k;
mod q5_0;
mod q5_1;
mod q5_k;
mod q6_k;
mod q8_0;
mod q8_k;
pub(crate) mod tile;

pub use self::f16::{vec_dot_bf16, vec_dot_f16};
pub use self::f32::vec_dot_f32;
pub use attention::attend;
pub use attention_tile::attend_tile;
pub use iq4::{vec_dot_iq4_nl_q8_0, vec_dot_iq4_xs_q8_k};
pub use q2_k::vec_dot_q2_k_q8_k;
pub use q3_k::vec_dot_q3_k_q8_k;
pub use q4_0::vec_dot_q4_0_q8_0;
pub use q4_1::vec_dot_q4_1_q8_1;
pub use q4_k::vec_dot_q4_k_q8_k;
pub use q5_0::vec_dot_q5_0_q8_0;
pub use q5_1::vec_dot_q5_1_q8_1;
pub use q5_k::vec_dot_q5_k_q8_k;
pub use q6_k::vec_dot_q6_k_q8_k;
pub use q8_0::{quantize_row_q8_0, vec_dot_q8_0_q8_0};
pub use q8_k::quantize_row_q8_k;

use core::arch::x86_64::*;

/// Widens a little-endian f16 to f32 with the F16C instruction.
#[inline]
#[target_feature(enable = "f16c")]
pub(crate) fn f16_to_f32(bits: [u8; 2]) -> f32 {
    let v = _mm_cvtsi32_si128(i32::from(u16::from_le_bytes(bits)));
    _mm_cvtss_f32(_mm_cvtph_ps(v))
}

/// Sum of the eight lanes.
#[inline]
#[target_feature(enable = "avx2")]
pub(crate) fn hsum_ps(v: __m256) -> f32 {
    let s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    let s = _mm_add_ps(s, _mm_movehl_ps(s, s));
    let s = _mm_add_ss(s, _mm_shuffle_ps(s, s, 1));
    _mm_cvtss_f32(s)
}

/// Expands 16 bytes of packed nibbles into 32 bytes: low nibbles (elements 0..16) in
/// the low half, high nibbles (elements 16..32) in the high half.
#[inline]
#[target_feature(enable = "avx2")]
pub(crate) fn unpack_nibbles(raw: __m128i) -> __m256i {
    let both = _mm256_set_m128i(_mm_srli_epi16(raw, 4), raw);
    _mm256_and_si256(both, _mm256_set1_epi8(0x0f))
}

/// Loads 16 bytes.
#[inline]
#[target_feature(enable = "avx2")]
pub(crate) fn load16(b: &[u8; 16]) -> __m128i {
    // SAFETY: `b` is 16 readable bytes; `loadu` has no alignment requirement.
    unsafe { _mm_loadu_si128(b.as_ptr().cast()) }
}

/// Loads 32 bytes.
#[inline]
#[target_feature(enable = "avx2")]
pub(crate) fn load32<T: bytemuck::Pod>(b: &[T; 32]) -> __m256i {
    const { assert!(size_of::<T>() == 1) };
    // SAFETY: `b` is 32 readable bytes (T is one byte); `loadu` has no alignment
    // requirement.
    unsafe { _mm256_loadu_si256(b.as_ptr().cast()) }
}

/// The fifth bits of a Q5_0/Q5_1 block as bytes: byte `i` is `0x10` if bit `i` of the
/// little-endian `qh` word is set, else 0 (element order matching [`unpack_nibbles`]).
#[inline]
#[target_feature(enable = "avx2")]
pub(crate) fn fifth_bits(qh: [u8; 4]) -> __m256i {
    let v = _mm256_set1_epi32(i32::from_le_bytes(qh));
    // Byte i takes byte i / 8 of `qh` (both 128-bit lanes hold the whole word).
    let spread = _mm256_shuffle_epi8(
        v,
        _mm256_set_epi64x(
            0x0303_0303_0303_0303,
            0x0202_0202_0202_0202,
            0x0101_0101_0101_0101,
            0,
        ),
    );
    let bit = _mm256_set1_epi64x(0x8040_2010_0804_0201u64 as i64);
    let set = _mm256_cmpeq_epi8(_mm256_and_si256(spread, bit), bit);
    _mm256_and_si256(set, _mm256_set1_epi8(0x10))
}

//! The plain floating-point element types: F32, F16 and BF16, stored little-endian.
//!
//! Also home of the f16 scale helpers that every block format shares, so there is one
//! place that decides how a scale is rounded.
//!
//! As for the block formats, `src` and `dst` hold the same number of elements (checked by
//! [`crate::quantize`] / [`crate::dequantize`]); extra trailing bytes are ignored.

use half::f16;

/// Decodes little-endian IEEE binary16 bits into an f32 (exact: every f16 is an f32).
/// A signalling NaN comes back quiet, as from ggml's `GGML_FP16_TO_FP32` (F16C or its
/// software path); numpy, and so gguf-py, would keep it signalling.
#[inline]
pub(crate) fn f16_to_f32(bits: [u8; 2]) -> f32 {
    f16::from_bits(u16::from_le_bytes(bits)).to_f32()
}

/// Rounds an f32 to the nearest f16 (ties to even, as ggml's `GGML_FP32_TO_FP16`) and
/// returns its little-endian bits. Values beyond the f16 range become ±infinity.
#[inline]
pub(crate) fn f32_to_f16(v: f32) -> [u8; 2] {
    f16::from_f32(v).to_bits().to_le_bytes()
}

/// Rounds an f32 to bfloat16 bits exactly as ggml's `ggml_compute_fp32_to_bf16`:
/// round to nearest, ties to even; a NaN keeps its sign and top payload bits and is made
/// quiet, so it cannot collapse into an infinity when its payload sits in the low bits.
#[inline]
pub(crate) fn f32_to_bf16_bits(v: f32) -> u16 {
    let u = v.to_bits();
    if u & 0x7fff_ffff > 0x7f80_0000 {
        return ((u >> 16) | 0x40) as u16;
    }
    // No overflow: the largest non-NaN pattern, 0xff80_0000, plus 0x8000 fits in u32.
    ((u + (0x7fff + ((u >> 16) & 1))) >> 16) as u16
}

/// Widens bfloat16 bits to f32 (exact: bf16 is the top half of an f32).
#[inline]
pub(crate) fn bf16_bits_to_f32(bits: u16) -> f32 {
    f32::from_bits(u32::from(bits) << 16)
}

/// Implements a getter and a setter for a little-endian f16 field (`[u8; 2]`) of a block
/// struct, so every format reads and rounds its scales the same way.
macro_rules! f16_accessors {
    ($ty:ty { $($field:ident, $setter:ident: $doc:literal;)+ }) => {
        impl $ty {
            $(
                #[doc = concat!("The ", $doc, ", widened from its stored f16.")]
                #[inline]
                pub fn $field(&self) -> f32 {
                    $crate::float::f16_to_f32(self.$field)
                }

                #[doc = concat!("Stores the ", $doc, ", rounded to f16 (nearest, ties to even).")]
                #[inline]
                pub fn $setter(&mut self, v: f32) {
                    self.$field = $crate::float::f32_to_f16(v);
                }
            )+
        }
    };
}
pub(crate) use f16_accessors;

/// Reads little-endian f32 values (4 bytes each); NaN payloads are kept bit for bit.
pub fn dequantize_f32(src: &[u8], dst: &mut [f32]) {
    debug_assert_eq!(src.len(), dst.len() * 4);
    for (b, y) in src.chunks_exact(4).zip(dst.iter_mut()) {
        *y = f32::from_le_bytes([b[0], b[1], b[2], b[3]]);
    }
}

/// Writes f32 values as little-endian bytes (4 each), bit for bit.
pub fn quantize_f32(src: &[f32], dst: &mut [u8]) {
    debug_assert_eq!(src.len() * 4, dst.len());
    for (x, b) in src.iter().zip(dst.chunks_exact_mut(4)) {
        b.copy_from_slice(&x.to_le_bytes());
    }
}

/// Reads little-endian IEEE binary16 values (2 bytes each) as f32.
pub fn dequantize_f16(src: &[u8], dst: &mut [f32]) {
    debug_assert_eq!(src.len(), dst.len() * 2);
    for (b, y) in src.chunks_exact(2).zip(dst.iter_mut()) {
        *y = f16_to_f32([b[0], b[1]]);
    }
}

/// Rounds f32 values to IEEE binary16 (nearest, ties to even; overflow to ±infinity) and
/// writes them little-endian, 2 bytes each.
pub fn quantize_f16(src: &[f32], dst: &mut [u8]) {
    debug_assert_eq!(src.len() * 2, dst.len());
    for (x, b) in src.iter().zip(dst.chunks_exact_mut(2)) {
        b.copy_from_slice(&f32_to_f16(*x));
    }
}

/// Reads little-endian bfloat16 values (2 bytes each) as f32.
pub fn dequantize_bf16(src: &[u8], dst: &mut [f32]) {
    debug_assert_eq!(src.len(), dst.len() * 2);
    for (b, y) in src.chunks_exact(2).zip(dst.iter_mut()) {
        *y = bf16_bits_to_f32(u16::from_le_bytes([b[0], b[1]]));
    }
}

/// Rounds f32 values to bfloat16 as ggml does (nearest, ties to even; NaN made quiet)
/// and writes them little-endian, 2 bytes each.
pub fn quantize_bf16(src: &[f32], dst: &mut [u8]) {
    debug_assert_eq!(src.len() * 2, dst.len());
    for (x, b) in src.iter().zip(dst.chunks_exact_mut(2)) {
        b.copy_from_slice(&f32_to_bf16_bits(*x).to_le_bytes());
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn bf16_of(x: f32) -> u16 {
        let mut b = [0u8; 2];
        quantize_bf16(&[x], &mut b);
        u16::from_le_bytes(b)
    }

    fn f16_of(x: f32) -> u16 {
        let mut b = [0u8; 2];
        quantize_f16(&[x], &mut b);
        u16::from_le_bytes(b)
    }

    #[test]
    fn bf16_hand_values() {
        // 1.0 = 0x3f80_0000: exact.
        assert_eq!(bf16_of(1.0), 0x3f80);
        // 1 + 2^-8 = 0x3f80_8000 is half-way between 0x3f80 and 0x3f81: ties to even.
        assert_eq!(bf16_of(f32::from_bits(0x3f80_8000)), 0x3f80);
        // 0x3f81_8000 is half-way between 0x3f81 and 0x3f82: ties to even goes up.
        assert_eq!(bf16_of(f32::from_bits(0x3f81_8000)), 0x3f82);
        // Just above half-way rounds up.
        assert_eq!(bf16_of(f32::from_bits(0x3f80_8001)), 0x3f81);
        // f32::MAX rounds up into +infinity.
        assert_eq!(bf16_of(f32::MAX), 0x7f80);
        assert_eq!(bf16_of(f32::NEG_INFINITY), 0xff80);
        assert_eq!(bf16_of(-0.0), 0x8000);
        // A signalling NaN whose payload is only in the low half must stay a NaN: the
        // quiet bit (0x40) is set and the sign kept.
        assert_eq!(bf16_of(f32::from_bits(0xff80_0001)), 0xffc0);
        assert_eq!(bf16_of(f32::from_bits(0x7fc0_0000)), 0x7fc0);
    }

    #[test]
    fn f16_hand_values() {
        assert_eq!(f16_of(1.0), 0x3c00);
        assert_eq!(f16_of(-2.0), 0xc000);
        assert_eq!(f16_of(65504.0), 0x7bff);
        // 65520 is half-way between 65504 and the next step, 65536: it rounds to even,
        // which is the overflow to infinity.
        assert_eq!(f16_of(65520.0), 0x7c00);
        assert_eq!(f16_of(65519.0), 0x7bff);
        // Smallest subnormal 2^-24, and half of it (a tie with zero) rounds to zero.
        assert_eq!(f16_of(2f32.powi(-24)), 0x0001);
        assert_eq!(f16_of(2f32.powi(-25)), 0x0000);
        // 1 + 2^-11 is the tie between 0x3c00 and 0x3c01: even wins.
        assert_eq!(f16_of(1.0 + 2f32.powi(-11)), 0x3c00);
        assert!(f16_to_f32(f16_of(f32::NAN).to_le_bytes()).is_nan());
    }

    #[test]
    fn f32_is_little_endian_bit_copy() {
        let x = [1.0f32, -0.0, f32::from_bits(0x7fa0_0001)];
        let mut b = [0u8; 12];
        quantize_f32(&x, &mut b);
        assert_eq!(&b[0..4], &[0x00, 0x00, 0x80, 0x3f]);
        assert_eq!(&b[4..8], &[0x00, 0x00, 0x00, 0x80]);
        let mut y = [0f32; 3];
        dequantize_f32(&b, &mut y);
        for (a, b) in x.iter().zip(&y) {
            assert_eq!(a.to_bits(), b.to_bits());
        }
    }

    #[test]
    fn dequantize_hand_values() {
        let mut y = [0f32; 2];
        dequantize_f16(&[0x00, 0x3c, 0x01, 0x00], &mut y);
        assert_eq!(y, [1.0, 2f32.powi(-24)]);
        dequantize_bf16(&[0x80, 0x3f, 0x49, 0xc0], &mut y);
        assert_eq!(y, [1.0, f32::from_bits(0xc049_0000)]);
    }

    proptest! {
        #[test]
        fn bf16_round_trip_is_within_half_ulp(x in -1e30f32..1e30f32) {
            let mut b = [0u8; 2];
            quantize_bf16(&[x], &mut b);
            let mut y = [0f32; 1];
            dequantize_bf16(&b, &mut y);
            // bf16 keeps 8 significant bits: half an ulp is at most 2^-8 of the value.
            prop_assert!((y[0] - x).abs() <= x.abs() * 2f32.powi(-8));
        }

        #[test]
        fn f16_round_trip_is_within_half_ulp(x in -60000f32..60000f32) {
            let mut b = [0u8; 2];
            quantize_f16(&[x], &mut b);
            let mut y = [0f32; 1];
            dequantize_f16(&b, &mut y);
            // 11 significant bits; below 2^-14 the spacing is the fixed 2^-24.
            let tol = (x.abs() * 2f32.powi(-11)).max(2f32.powi(-25));
            prop_assert!((y[0] - x).abs() <= tol);
        }

        #[test]
        fn any_bits_decode_without_panic(bytes in proptest::collection::vec(any::<u8>(), 0..64)) {
            let n = bytes.len() / 4 * 4;
            let mut y = vec![0f32; n / 2];
            dequantize_f16(&bytes[..n], &mut y);
            dequantize_bf16(&bytes[..n], &mut y);
            let mut z = vec![0f32; n / 4];
            dequantize_f32(&bytes[..n], &mut z);
        }
    }
}

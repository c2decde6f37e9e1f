//! Dispatch from a [`GgmlType`] to its block format's converters, with the length checks
//! done once here so the per-format code can assume whole blocks.

use crate::{float, iq4, k_quants, legacy, GgmlType, QuantError};

/// Checks that `bytes` holds exactly the blocks of `n` elements of `ty`.
fn check_lengths(ty: GgmlType, n: usize, bytes: usize) -> Result<(), QuantError> {
    let block = ty.block_size();
    if n % block != 0 {
        return Err(QuantError::NotBlockMultiple { ty, n, block });
    }
    let expected = n / block * ty.type_size();
    if bytes != expected {
        return Err(QuantError::BadLength {
            ty,
            n,
            expected,
            found: bytes,
        });
    }
    Ok(())
}

/// True if [`dequantize`] supports `ty`.
pub fn can_dequantize(ty: GgmlType) -> bool {
    use GgmlType::*;
    matches!(
        ty,
        F32 | F16
            | BF16
            | Q4_0
            | Q4_1
            | Q5_0
            | Q5_1
            | Q8_0
            | Q8_1
            | Q2_K
            | Q3_K
            | Q4_K
            | Q5_K
            | Q6_K
            | Q8_K
            | IQ4_NL
            | IQ4_XS
    )
}

/// True if [`quantize`] supports `ty`.
pub fn can_quantize(ty: GgmlType) -> bool {
    can_dequantize(ty)
}

/// Decodes `src`, the raw bytes of `dst.len()` elements of type `ty`, into `dst`.
pub fn dequantize(ty: GgmlType, src: &[u8], dst: &mut [f32]) -> Result<(), QuantError> {
    if !can_dequantize(ty) {
        return Err(QuantError::Unsupported {
            op: "dequantize",
            ty,
        });
    }
    check_lengths(ty, dst.len(), src.len())?;
    use GgmlType::*;
    match ty {
        F32 => float::dequantize_f32(src, dst),
        F16 => float::dequantize_f16(src, dst),
        BF16 => float::dequantize_bf16(src, dst),
        Q4_0 => legacy::dequantize_q4_0(src, dst),
        Q4_1 => legacy::dequantize_q4_1(src, dst),
        Q5_0 => legacy::dequantize_q5_0(src, dst),
        Q5_1 => legacy::dequantize_q5_1(src, dst),
        Q8_0 => legacy::dequantize_q8_0(src, dst),
        Q8_1 => legacy::dequantize_q8_1(src, dst),
        Q2_K => k_quants::dequantize_q2_k(src, dst),
        Q3_K => k_quants::dequantize_q3_k(src, dst),
        Q4_K => k_quants::dequantize_q4_k(src, dst),
        Q5_K => k_quants::dequantize_q5_k(src, dst),
        Q6_K => k_quants::dequantize_q6_k(src, dst),
        Q8_K => k_quants::dequantize_q8_k(src, dst),
        IQ4_NL => iq4::dequantize_iq4_nl(src, dst),
        IQ4_XS => iq4::dequantize_iq4_xs(src, dst),
        _ => {
            return Err(QuantError::Unsupported {
                op: "dequantize",
                ty,
            })
        }
    }
    Ok(())
}

/// Encodes `src` (a whole number of blocks) into `dst`, the raw bytes of type `ty`, with
/// the reference quantizer (the same algorithm as llama.cpp's `quantize_row_*_ref`).
pub fn quantize(ty: GgmlType, src: &[f32], dst: &mut [u8]) -> Result<(), QuantError> {
    if !can_quantize(ty) {
        return Err(QuantError::Unsupported { op: "quantize", ty });
    }
    check_lengths(ty, src.len(), dst.len())?;
    use GgmlType::*;
    match ty {
        F32 => float::quantize_f32(src, dst),
        F16 => float::quantize_f16(src, dst),
        BF16 => float::quantize_bf16(src, dst),
        Q4_0 => legacy::quantize_q4_0(src, dst),
        Q4_1 => legacy::quantize_q4_1(src, dst),
        Q5_0 => legacy::quantize_q5_0(src, dst),
        Q5_1 => legacy::quantize_q5_1(src, dst),
        Q8_0 => legacy::quantize_q8_0(src, dst),
        Q8_1 => legacy::quantize_q8_1(src, dst),
        Q2_K => k_quants::quantize_q2_k(src, dst),
        Q3_K => k_quants::quantize_q3_k(src, dst),
        Q4_K => k_quants::quantize_q4_k(src, dst),
        Q5_K => k_quants::quantize_q5_k(src, dst),
        Q6_K => k_quants::quantize_q6_k(src, dst),
        Q8_K => k_quants::quantize_q8_k(src, dst),
        IQ4_NL => iq4::quantize_iq4_nl(src, dst),
        IQ4_XS => iq4::quantize_iq4_xs(src, dst),
        _ => return Err(QuantError::Unsupported { op: "quantize", ty }),
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unsupported_types_are_errors_not_panics() {
        let mut out = [0f32; 256];
        let err = dequantize(GgmlType::IQ2_XXS, &[0u8; 66], &mut out).unwrap_err();
        assert_eq!(
            err,
            QuantError::Unsupported {
                op: "dequantize",
                ty: GgmlType::IQ2_XXS
            }
        );
        let err = quantize(GgmlType::TQ1_0, &[0f32; 256], &mut [0u8; 54]).unwrap_err();
        assert_eq!(
            err,
            QuantError::Unsupported {
                op: "quantize",
                ty: GgmlType::TQ1_0
            }
        );
    }

    #[test]
    fn lengths_are_checked() {
        let mut out = [0f32; 33];
        let err = dequantize(GgmlType::Q4_0, &[0u8; 18], &mut out).unwrap_err();
        assert!(matches!(
            err,
            QuantError::NotBlockMultiple {
                n: 33,
                block: 32,
                ..
            }
        ));
        let err = quantize(GgmlType::Q8_0, &[0f32; 64], &mut [0u8; 34]).unwrap_err();
        assert_eq!(
            err,
            QuantError::BadLength {
                ty: GgmlType::Q8_0,
                n: 64,
                expected: 68,
                found: 34
            }
        );
    }
}

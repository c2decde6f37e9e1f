//! Which form the activations take for each weight type.

use edge_formats::GgmlType;

/// The type an activation row is converted to before a dot product with weights of type
/// `weight`, as ggml's `vec_dot_type`: Q8_0 for Q4_0, Q5_0, Q8_0 and IQ4_NL; Q8_1 (which
/// carries `d·Σq`) for Q4_1 and Q5_1; Q8_K for the K-quants and IQ4_XS; F16 for F16 and
/// BF16 for BF16 (the activations are rounded to the weights' half type, so results
/// match llama.cpp's); F32 for F32 (the activations are used as they are). `None` if
/// this crate has no kernel for `weight`.
pub fn activation_type(weight: GgmlType) -> Option<GgmlType> {
    use GgmlType::*;
    match weight {
        Q4_0 | Q5_0 | Q8_0 | IQ4_NL => Some(Q8_0),
        Q4_1 | Q5_1 => Some(Q8_1),
        Q2_K | Q3_K | Q4_K | Q5_K | Q6_K | IQ4_XS => Some(Q8_K),
        F16 => Some(F16),
        BF16 => Some(BF16),
        F32 => Some(F32),
        _ => None,
    }
}

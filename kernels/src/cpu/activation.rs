//! Which quantized form the activations take for each weight type.

use edge_formats::GgmlType;

/// The block type an activation row is quantized to before a dot product with weights of
/// type `weight`, as in ggml: Q8_0 for Q4_0 and Q8_0, Q8_1 (which carries `d·Σq`) for
/// Q4_1, Q8_K for the K-quants. `None` if this crate has no kernel for `weight`.
pub fn activation_type(weight: GgmlType) -> Option<GgmlType> {
    match weight {
        GgmlType::Q4_0 | GgmlType::Q8_0 => Some(GgmlType::Q8_0),
        GgmlType::Q4_1 => Some(GgmlType::Q8_1),
        GgmlType::Q4_K | GgmlType::Q6_K => Some(GgmlType::Q8_K),
        _ => None,
    }
}

//! F16 · F16 and BF16 · BF16: half-precision weights with activations rounded to the
//! same type (as ggml pairs them), widened to f32 and summed in order.

/// The dot product of two little-endian IEEE binary16 rows (over the shorter length).
pub fn vec_dot_f16(w: &[[u8; 2]], x: &[[u8; 2]]) -> f32 {
    let f = |b: &[u8; 2]| half::f16::from_le_bytes(*b).to_f32();
    w.iter()
        .zip(x)
        .fold(0.0, |acc, (a, b)| f(a).mul_add(f(b), acc))
}

/// The dot product of two little-endian bfloat16 rows (over the shorter length).
pub fn vec_dot_bf16(w: &[[u8; 2]], x: &[[u8; 2]]) -> f32 {
    let f = |b: &[u8; 2]| f32::from_bits(u32::from(u16::from_le_bytes(*b)) << 16);
    w.iter()
        .zip(x)
        .fold(0.0, |acc, (a, b)| f(a).mul_add(f(b), acc))
}

//! f32 · f32.

/// The dot product of two f32 slices (over the shorter length), summed in order.
pub fn vec_dot_f32(w: &[f32], x: &[f32]) -> f32 {
    w.iter().zip(x).fold(0.0, |acc, (a, b)| a.mul_add(*b, acc))
}

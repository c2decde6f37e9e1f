//! Rotary position embedding (RoPE).
//!
//! Two layouts exist in GGUF models, named after ggml's modes: *normal*, which rotates
//! adjacent pairs `(2i, 2i+1)` (llama: its converter permutes the Q/K rows so this matches
//! the Hugging Face layout), and *NeoX*, which rotates `(i, i + n_dims/2)` (gemma, qwen).
//! Both use the angle `pos · base^(-2i/n_dims)` for pair `i`.

use super::check_len;
use crate::KernelError;

/// Fills `cos[i]`, `sin[i]` with the rotation of pair `i` at position `pos`, for
/// `i < cos.len()` (`= n_dims / 2`).
///
/// The angle is advanced by repeated multiplication in f32, as ggml does, rather than by
/// `powf` per pair, so that our angles round the way the reference's do.
pub fn rope_angles(
    pos: usize,
    n_dims: usize,
    base: f32,
    cos: &mut [f32],
    sin: &mut [f32],
) -> Result<(), KernelError> {
    rope_angles_scaled(pos, n_dims, base, 1.0, cos, sin)
}

/// As [`rope_angles`] with linear position interpolation: every angle is multiplied by
/// `freq_scale` (`1 / rope.scaling.factor`), after the per-pair power as ggml applies it.
/// A scale of 1 gives exactly [`rope_angles`].
pub fn rope_angles_scaled(
    pos: usize,
    n_dims: usize,
    base: f32,
    freq_scale: f32,
    cos: &mut [f32],
    sin: &mut [f32],
) -> Result<(), KernelError> {
    check_len("rope sin table", cos.len(), sin.len())?;
    check_len("rope cos table", n_dims / 2, cos.len())?;
    let step = base.powf(-2.0 / n_dims as f32);
    let mut theta = pos as f32;
    for (c, s) in cos.iter_mut().zip(sin.iter_mut()) {
        let angle = freq_scale * theta;
        *c = angle.cos();
        *s = angle.sin();
        theta *= step;
    }
    Ok(())
}

/// Rotates every `head_dim`-long head of `x` in place, normal (adjacent-pair) layout. The
/// first `2 · cos.len()` elements of each head are rotated, the rest pass through.
pub fn rope_norm(
    x: &mut [f32],
    head_dim: usize,
    cos: &[f32],
    sin: &[f32],
) -> Result<(), KernelError> {
    check_heads(x, head_dim, cos, sin)?;
    for head in x.chunks_exact_mut(head_dim) {
        for (pair, (&c, &s)) in head.chunks_exact_mut(2).zip(cos.iter().zip(sin)) {
            let (x0, x1) = (pair[0], pair[1]);
            pair[0] = x0 * c - x1 * s;
            pair[1] = x0 * s + x1 * c;
        }
    }
    Ok(())
}

/// Rotates every `head_dim`-long head of `x` in place, NeoX (split-half) layout: element
/// `i` pairs with `i + cos.len()`.
pub fn rope_neox(
    x: &mut [f32],
    head_dim: usize,
    cos: &[f32],
    sin: &[f32],
) -> Result<(), KernelError> {
    check_heads(x, head_dim, cos, sin)?;
    let half = cos.len();
    for head in x.chunks_exact_mut(head_dim) {
        let (lo, hi) = head.split_at_mut(half);
        for ((a, b), (&c, &s)) in lo.iter_mut().zip(hi.iter_mut()).zip(cos.iter().zip(sin)) {
            let (x0, x1) = (*a, *b);
            *a = x0 * c - x1 * s;
            *b = x0 * s + x1 * c;
        }
    }
    Ok(())
}

fn check_heads(x: &[f32], head_dim: usize, cos: &[f32], sin: &[f32]) -> Result<(), KernelError> {
    check_len("rope sin table", cos.len(), sin.len())?;
    if head_dim == 0 || !x.len().is_multiple_of(head_dim) || 2 * cos.len() > head_dim {
        return Err(KernelError::BadLength {
            what: "rope input (whole heads, rotated dims within a head)",
            expected: head_dim,
            found: x.len(),
            unit: "elements",
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn position_zero_is_identity() {
        let (mut c, mut s) = (vec![0.0; 2], vec![0.0; 2]);
        rope_angles(0, 4, 10000.0, &mut c, &mut s).unwrap();
        let mut x = vec![1.0, 2.0, 3.0, 4.0];
        rope_norm(&mut x, 4, &c, &s).unwrap();
        assert_eq!(x, [1.0, 2.0, 3.0, 4.0]);
    }

    #[test]
    fn layouts_pair_different_elements() {
        let (mut c, mut s) = (vec![0.0; 2], vec![0.0; 2]);
        // base 1: every pair turns by `pos` radians.
        rope_angles(1, 4, 1.0, &mut c, &mut s).unwrap();
        let (cs, sn) = (1f32.cos(), 1f32.sin());
        let mut x = vec![1.0, 0.0, 0.0, 0.0];
        rope_norm(&mut x, 4, &c, &s).unwrap();
        assert!((x[0] - cs).abs() < 1e-6 && (x[1] - sn).abs() < 1e-6);
        let mut x = vec![1.0, 0.0, 0.0, 0.0];
        rope_neox(&mut x, 4, &c, &s).unwrap();
        assert!((x[0] - cs).abs() < 1e-6 && (x[2] - sn).abs() < 1e-6 && x[1] == 0.0);
    }

    #[test]
    fn rejects_partial_heads() {
        let (c, s) = (vec![1.0; 2], vec![0.0; 2]);
        assert!(rope_norm(&mut [0.0; 6], 4, &c, &s).is_err());
        assert!(rope_neox(&mut [0.0; 4], 2, &c, &s).is_err());
    }
}

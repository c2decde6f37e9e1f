//! RMS normalisation.

use super::check_len;
use crate::KernelError;

/// In place: `x ← x / sqrt(mean(x²) + eps)`.
///
/// The sum of squares is accumulated in f64, as ggml does, so that long rows (thousands of
/// elements) lose no precision before the division.
pub fn rms_norm(x: &mut [f32], eps: f32) {
    if x.is_empty() {
        return;
    }
    let sum: f64 = x.iter().map(|&v| f64::from(v) * f64::from(v)).sum();
    let mean = (sum / x.len() as f64) as f32;
    let scale = 1.0 / (mean + eps).sqrt();
    x.iter_mut().for_each(|v| *v *= scale);
}

/// `out ← rms_norm(x) ⊙ weight`: the pre-norm of a transformer block.
pub fn rms_norm_mul(
    x: &[f32],
    weight: &[f32],
    eps: f32,
    out: &mut [f32],
) -> Result<(), KernelError> {
    check_len("rms_norm weight", x.len(), weight.len())?;
    check_len("rms_norm output", x.len(), out.len())?;
    out.copy_from_slice(x);
    rms_norm(out, eps);
    out.iter_mut().zip(weight).for_each(|(o, &w)| *o *= w);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unit_rms_after_norm() {
        let mut x = vec![1.0, -2.0, 3.0, -4.0];
        rms_norm(&mut x, 0.0);
        let ms: f32 = x.iter().map(|v| v * v).sum::<f32>() / 4.0;
        assert!((ms - 1.0).abs() < 1e-6);
        assert!((x[0] - 1.0 / 7.5f32.sqrt()).abs() < 1e-6);
    }

    #[test]
    fn weight_length_checked() {
        let mut out = [0.0; 3];
        assert!(rms_norm_mul(&[1.0; 3], &[1.0; 2], 1e-5, &mut out).is_err());
        rms_norm_mul(&[2.0; 3], &[1.0, 2.0, 3.0], 0.0, &mut out).unwrap();
        assert_eq!(out, [1.0, 2.0, 3.0]);
    }
}

//! Activations and the gated-linear-unit products of feed-forward blocks.

use super::check_len;
use crate::KernelError;

/// SiLU (swish): `x · σ(x)`.
pub fn silu(x: f32) -> f32 {
    x / (1.0 + (-x).exp())
}

/// GELU, tanh approximation: `0.5·x·(1 + tanh(√(2/π)·(x + 0.044715·x³)))`.
pub fn gelu_tanh(x: f32) -> f32 {
    const SQRT_2_OVER_PI: f32 = 0.797_884_6;
    0.5 * x * (1.0 + (SQRT_2_OVER_PI * x * (1.0 + 0.044715 * x * x)).tanh())
}

/// SwiGLU: `gate ← silu(gate) ⊙ up`.
pub fn silu_mul(gate: &mut [f32], up: &[f32]) -> Result<(), KernelError> {
    check_len("silu_mul up", gate.len(), up.len())?;
    gate.iter_mut()
        .zip(up)
        .for_each(|(g, &u)| *g = silu(*g) * u);
    Ok(())
}

/// GeGLU: `gate ← gelu_tanh(gate) ⊙ up`.
pub fn gelu_tanh_mul(gate: &mut [f32], up: &[f32]) -> Result<(), KernelError> {
    check_len("gelu_mul up", gate.len(), up.len())?;
    gate.iter_mut()
        .zip(up)
        .for_each(|(g, &u)| *g = gelu_tanh(*g) * u);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_values() {
        assert_eq!(silu(0.0), 0.0);
        assert!((silu(1.0) - 0.731_058_6).abs() < 1e-6);
        assert!((gelu_tanh(1.0) - 0.841_192).abs() < 1e-5);
        let mut g = [1.0, 2.0];
        assert!(silu_mul(&mut g, &[1.0]).is_err());
        silu_mul(&mut g, &[2.0, 0.0]).unwrap();
        assert!((g[0] - 2.0 * 0.731_058_6).abs() < 1e-6 && g[1] == 0.0);
    }
}

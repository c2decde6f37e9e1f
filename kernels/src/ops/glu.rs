//! Activations and the gated-linear-unit products of feed-forward blocks.

use super::check_len;
use crate::KernelError;

#[cfg(target_arch = "x86_64")]
mod avx2;

/// `√(2/π)`.
const SQRT_2_OVER_PI: f32 = 0.797_884_6;

/// Whether this CPU takes the AVX2 forms (checked once; the standard library caches it).
#[cfg(target_arch = "x86_64")]
fn has_avx2() -> bool {
    std::arch::is_x86_feature_detected!("avx2") && std::arch::is_x86_feature_detected!("fma")
}

/// SiLU (swish): `x · σ(x)`.
pub fn silu(x: f32) -> f32 {
    x / (1.0 + (-x).exp())
}

/// GELU, tanh approximation: `0.5·x·(1 + tanh(√(2/π)·(x + 0.044715·x³)))`.
pub fn gelu_tanh(x: f32) -> f32 {
    0.5 * x * (1.0 + (SQRT_2_OVER_PI * x * (1.0 + 0.044715 * x * x)).tanh())
}

/// SwiGLU: `gate ← silu(gate) ⊙ up`.
pub fn silu_mul(gate: &mut [f32], up: &[f32]) -> Result<(), KernelError> {
    check_len("silu_mul up", gate.len(), up.len())?;
    #[cfg(target_arch = "x86_64")]
    if has_avx2() {
        // SAFETY: the CPU has AVX2 and FMA (checked just above).
        unsafe { avx2::silu_mul(gate, up) };
        return Ok(());
    }
    silu_mul_scalar(gate, up);
    Ok(())
}

/// The scalar twin of [`silu_mul`] (lengths already checked).
fn silu_mul_scalar(gate: &mut [f32], up: &[f32]) {
    gate.iter_mut()
        .zip(up)
        .for_each(|(g, &u)| *g = silu(*g) * u);
}

/// GeGLU: `gate ← gelu_tanh(gate) ⊙ up`.
pub fn gelu_tanh_mul(gate: &mut [f32], up: &[f32]) -> Result<(), KernelError> {
    check_len("gelu_mul up", gate.len(), up.len())?;
    #[cfg(target_arch = "x86_64")]
    if has_avx2() {
        // SAFETY: the CPU has AVX2 and FMA (checked just above).
        unsafe { avx2::gelu_tanh_mul(gate, up) };
        return Ok(());
    }
    gelu_tanh_mul_scalar(gate, up);
    Ok(())
}

/// The scalar twin of [`gelu_tanh_mul`] (lengths already checked).
fn gelu_tanh_mul_scalar(gate: &mut [f32], up: &[f32]) {
    gate.iter_mut()
        .zip(up)
        .for_each(|(g, &u)| *g = gelu_tanh(*g) * u);
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

    /// The SIMD forms against their scalar twins. The AVX2 `exp` is within a few ulp
    /// (degree-6 polynomial on |r| ≤ ln2/2, truncation < 2e-8, plus roundings), and
    /// `x/(1+e)` keeps that relative error, hence 2e-6 relative for SiLU. For GELU the
    /// scalar twin itself loses accuracy where `tanh z` nears -1: `1 + tanh z` carries
    /// an absolute error of about one ulp of 1 (≤ 1.2e-7), i.e. up to
    /// `0.5·|x|·1.2e-7·|u|` in the result, hence that absolute term as well. Where
    /// `e⁻ᵗ` just overflows f32 (t ≈ -88.7) one side may give 0 and the other a value
    /// below 1e-36, hence an absolute 1e-30.
    #[cfg(target_arch = "x86_64")]
    mod simd {
        use super::super::avx2;
        use super::*;
        use proptest::prelude::*;

        fn values() -> impl Strategy<Value = (Vec<f32>, Vec<f32>)> {
            (0usize..40).prop_flat_map(|n| {
                (
                    proptest::collection::vec(-100.0f32..100.0, n),
                    proptest::collection::vec(-10.0f32..10.0, n),
                )
            })
        }

        proptest! {
            #[test]
            fn silu_matches_scalar((g, u) in values()) {
                prop_assume!(super::has_avx2());
                let mut want = g.clone();
                silu_mul_scalar(&mut want, &u);
                let mut got = g.clone();
                // SAFETY: AVX2 and FMA checked by the assumption above.
                unsafe { avx2::silu_mul(&mut got, &u) };
                for i in 0..g.len() {
                    let tol = 2e-6 * want[i].abs() + 1e-30;
                    prop_assert!((got[i] - want[i]).abs() <= tol, "x={} {} vs {}", g[i], got[i], want[i]);
                }
            }

            #[test]
            fn gelu_matches_scalar((g, u) in values()) {
                prop_assume!(super::has_avx2());
                let mut want = g.clone();
                gelu_tanh_mul_scalar(&mut want, &u);
                let mut got = g.clone();
                // SAFETY: AVX2 and FMA checked by the assumption above.
                unsafe { avx2::gelu_tanh_mul(&mut got, &u) };
                for i in 0..g.len() {
                    let tol = 2e-6 * want[i].abs() + 1e-7 * (g[i] * u[i]).abs() + 1e-30;
                    prop_assert!((got[i] - want[i]).abs() <= tol, "x={} {} vs {}", g[i], got[i], want[i]);
                }
            }
        }
    }
}

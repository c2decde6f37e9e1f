//! AVX2 + FMA forms of the gated products: eight lanes at a time, `exp` by range
//! reduction and a polynomial, the tail by the scalar functions.

use core::arch::x86_64::*;

/// `eˣ`: `x = k·ln2 + r` with `|r| ≤ ln2/2` (ln2 split in two for an exact product),
/// `eʳ` by its degree-6 Taylor polynomial (truncation below 2e-8 relative), then times
/// `2ᵏ` as two powers of two, so that beyond the f32 range the result overflows to
/// infinity or underflows to zero as `f32::exp` does (inputs are clamped to ±170 to
/// keep those powers' exponents in range).
#[inline]
#[target_feature(enable = "avx2,fma")]
fn exp(x: __m256) -> __m256 {
    let x = _mm256_min_ps(
        _mm256_max_ps(x, _mm256_set1_ps(-170.0)),
        _mm256_set1_ps(170.0),
    );
    let k = _mm256_round_ps::<{ _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC }>(_mm256_mul_ps(
        x,
        _mm256_set1_ps(core::f32::consts::LOG2_E),
    ));
    // ln2 = 0.693359375 (exact in 9 bits) - 2.12194440e-4.
    let r = _mm256_fnmadd_ps(k, _mm256_set1_ps(0.693_359_4), x);
    let r = _mm256_fnmadd_ps(k, _mm256_set1_ps(-2.121_944_4e-4), r);
    let mut p = _mm256_set1_ps(1.0 / 720.0);
    for c in [1.0 / 120.0, 1.0 / 24.0, 1.0 / 6.0, 0.5, 1.0, 1.0] {
        p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(c));
    }
    // |k| ≤ 246: each half's biased exponent stays in 4..=250.
    let ki = _mm256_cvtps_epi32(k);
    let half = _mm256_srai_epi32::<1>(ki);
    let pow = |e: __m256i| {
        _mm256_castsi256_ps(_mm256_slli_epi32::<23>(_mm256_add_epi32(
            e,
            _mm256_set1_epi32(127),
        )))
    };
    _mm256_mul_ps(_mm256_mul_ps(p, pow(half)), pow(_mm256_sub_epi32(ki, half)))
}

/// `x·σ(t) = x / (1 + e⁻ᵗ)`.
#[inline]
#[target_feature(enable = "avx2,fma")]
fn x_sigmoid(x: __m256, t: __m256) -> __m256 {
    let e = exp(_mm256_sub_ps(_mm256_setzero_ps(), t));
    _mm256_div_ps(x, _mm256_add_ps(_mm256_set1_ps(1.0), e))
}

/// `gate ← silu(gate) ⊙ up` over the common length.
///
/// # Safety
/// The CPU must support AVX2 and FMA.
#[target_feature(enable = "avx2,fma")]
pub(super) unsafe fn silu_mul(gate: &mut [f32], up: &[f32]) {
    let mut g = gate.chunks_exact_mut(8);
    let mut u = up.chunks_exact(8);
    for (g, u) in (&mut g).zip(&mut u) {
        // SAFETY: both chunks hold eight f32; `loadu`/`storeu` need no alignment.
        unsafe {
            let x = _mm256_loadu_ps(g.as_ptr());
            let y = _mm256_mul_ps(x_sigmoid(x, x), _mm256_loadu_ps(u.as_ptr()));
            _mm256_storeu_ps(g.as_mut_ptr(), y);
        }
    }
    for (g, &u) in g.into_remainder().iter_mut().zip(u.remainder()) {
        *g = super::silu(*g) * u;
    }
}

/// `gate ← gelu_tanh(gate) ⊙ up` over the common length, by
/// `0.5·x·(1 + tanh z) = x·σ(2z)` (no cancellation where `tanh z` nears -1).
///
/// # Safety
/// The CPU must support AVX2 and FMA.
#[target_feature(enable = "avx2,fma")]
pub(super) unsafe fn gelu_tanh_mul(gate: &mut [f32], up: &[f32]) {
    let mut g = gate.chunks_exact_mut(8);
    let mut u = up.chunks_exact(8);
    for (g, u) in (&mut g).zip(&mut u) {
        // SAFETY: both chunks hold eight f32; `loadu`/`storeu` need no alignment.
        unsafe {
            let x = _mm256_loadu_ps(g.as_ptr());
            let x2 = _mm256_mul_ps(x, x);
            let inner = _mm256_fmadd_ps(x2, _mm256_set1_ps(0.044715), _mm256_set1_ps(1.0));
            let z2 = _mm256_mul_ps(
                _mm256_mul_ps(x, _mm256_set1_ps(2.0 * super::SQRT_2_OVER_PI)),
                inner,
            );
            let y = _mm256_mul_ps(x_sigmoid(x, z2), _mm256_loadu_ps(u.as_ptr()));
            _mm256_storeu_ps(g.as_mut_ptr(), y);
        }
    }
    for (g, &u) in g.into_remainder().iter_mut().zip(u.remainder()) {
        *g = super::gelu_tanh(*g) * u;
    }
}

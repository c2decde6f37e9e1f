//! Searches for sub-block scales (and mins) shared by the K-quant quantizers.
//!
//! These reproduce ggml's reference searches step for step — the same candidate scales,
//! the same f32 accumulation order, the same tie-breaking — because a different but
//! "equally good" choice would change the output bytes and we want files identical to
//! those `llama-quantize` writes. Rust never fuses `a * b + c` into an FMA on its own, and
//! ggml's portable C code is built without FMA contraction, so writing the expressions in
//! the same order is enough to get the same bits.

/// Below this magnitude a sub-block is treated as all zeros.
pub(crate) const GROUP_MAX_EPS: f32 = 1e-15;

/// Rounds to the nearest integer, ties to even, for `|v| < 2^22`.
///
/// Adding 1.5·2^23 pushes `v` into the binade where the f32 spacing is exactly 1, so the
/// hardware's round-to-nearest-even addition does the rounding and the integer is read
/// back from the mantissa. This is ggml's trick; using it (rather than `round()`, which
/// rounds ties away from zero) keeps ties identical. Out-of-range inputs, infinities
/// and NaN give a meaningless but harmless value; every caller clamps the result.
#[inline]
pub(crate) fn nearest_int(v: f32) -> i32 {
    let bits = (v + 12_582_912.0_f32).to_bits() as i32;
    (bits & 0x007f_ffff) - 0x0040_0000
}

/// Symmetric quantization of `x` to levels `-nmax..nmax` (stored `+ nmax` in `levels`),
/// returning the scale. Error weights are `x²` (ggml's `make_qx_quants` with
/// `rmse_type = 1` and no importance weights, as used by Q6_K).
///
/// Starts from the scale that maps the largest-magnitude element onto `-nmax`, then tries
/// 18 nearby scales `-(nmax ± 0.1·k)/max` and keeps the rounding whose least-squares
/// scale explains the most weighted energy.
pub(crate) fn make_qx_quants<const N: usize>(x: &[f32; N], nmax: i32, levels: &mut [u8; N]) -> f32 {
    let mut max = 0.0f32;
    let mut amax = 0.0f32;
    for &v in x {
        let ax = v.abs();
        if ax > amax {
            amax = ax;
            max = v;
        }
    }
    if amax < GROUP_MAX_EPS {
        levels.fill(0);
        return 0.0;
    }
    let nmaxf = nmax as f32;
    // Sums over the rounding that `iscale` produces: Σ w·x·l and Σ w·l².
    let sums = |iscale: f32| {
        let mut sumlx = 0.0f32;
        let mut suml2 = 0.0f32;
        for &v in x {
            let l = nearest_int(iscale * v).clamp(-nmax, nmax - 1) as f32;
            let w = v * v;
            sumlx += w * v * l;
            suml2 += w * l * l;
        }
        (sumlx, suml2)
    };
    let store = |iscale: f32, levels: &mut [u8; N]| {
        for (q, &v) in levels.iter_mut().zip(x) {
            *q = (nearest_int(iscale * v).clamp(-nmax, nmax - 1) + nmax) as u8;
        }
    };

    let iscale = -nmaxf / max;
    store(iscale, levels);
    let (sumlx, suml2) = sums(iscale);
    // `suml2 != 0.0` rather than `> 0.0`: ggml tests the float for truthiness, which NaN
    // passes.
    let mut scale = if suml2 != 0.0 { sumlx / suml2 } else { 0.0 };
    let mut best = scale * sumlx;
    for is in (-9..=9).filter(|&is| is != 0) {
        let iscale = -(nmaxf + 0.1 * is as f32) / max;
        let (sumlx, suml2) = sums(iscale);
        if suml2 > 0.0 && sumlx * sumlx > best * suml2 {
            store(iscale, levels);
            scale = sumlx / suml2;
            best = scale * sumlx;
        }
    }
    scale
}

/// Symmetric quantization of `x` to levels `-nmax..nmax` with an iterative refinement
/// (ggml's `make_q3_quants` with `do_rmse`, as used by Q3_K). Returns the scale; the
/// levels are stored `+ nmax`, except for an all-zero sub-block whose levels are all 0.
///
/// After the initial rounding, each element in turn is moved to the level that is best
/// for the current least-squares scale if that raises the explained (x²-weighted) energy;
/// up to five sweeps, stopping early once a sweep changes nothing.
pub(crate) fn make_q3_quants<const N: usize>(x: &[f32; N], nmax: i32, levels: &mut [u8; N]) -> f32 {
    let mut max = 0.0f32;
    let mut amax = 0.0f32;
    for &v in x {
        let ax = v.abs();
        if ax > amax {
            amax = ax;
            max = v;
        }
    }
    if amax < GROUP_MAX_EPS {
        levels.fill(0);
        return 0.0;
    }
    let iscale = -(nmax as f32) / max;
    let mut l = [0i32; N];
    let mut sumlx = 0.0f32;
    let mut suml2 = 0.0f32;
    for (li, &v) in l.iter_mut().zip(x) {
        *li = nearest_int(iscale * v).clamp(-nmax, nmax - 1);
        let w = v * v;
        sumlx += w * v * *li as f32;
        suml2 += w * *li as f32 * *li as f32;
    }
    for _ in 0..5 {
        let mut changed = false;
        for (li, &v) in l.iter_mut().zip(x) {
            let w = v * v;
            let lf = *li as f32;
            let mut slx = sumlx - w * v * lf;
            if slx > 0.0 {
                let mut sl2 = suml2 - w * lf * lf;
                let new_l = nearest_int(v * sl2 / slx).clamp(-nmax, nmax - 1);
                if new_l != *li {
                    let nf = new_l as f32;
                    slx += w * v * nf;
                    sl2 += w * nf * nf;
                    // Compare sumlx²/suml2 without dividing: the candidate wins if it
                    // explains strictly more energy.
                    if sl2 > 0.0 && slx * slx * suml2 > sumlx * sumlx * sl2 {
                        *li = new_l;
                        sumlx = slx;
                        suml2 = sl2;
                        changed = true;
                    }
                }
            }
        }
        if !changed {
            break;
        }
    }
    for (q, &li) in levels.iter_mut().zip(&l) {
        *q = (li + nmax) as u8;
    }
    if suml2 > 0.0 {
        sumlx / suml2
    } else {
        0.0
    }
}

/// Parameters of the scale sweep in [`make_qkx2_quants`].
#[derive(Clone, Copy, Debug)]
pub(crate) struct Qkx2Params {
    /// Largest level (levels are `0..=nmax`).
    pub nmax: i32,
    /// First candidate is `(nmax + rmin) / (max - min)`.
    pub rmin: f32,
    /// Step between candidates, in levels.
    pub rdelta: f32,
    /// Candidates `0..=nstep` are tried.
    pub nstep: i32,
    /// Minimize weighted absolute error instead of weighted squared error.
    pub use_mad: bool,
}

/// Asymmetric quantization `x ≈ scale·l - min_out` with levels `l` in `0..=nmax`
/// (ggml's `make_qkx2_quants`). Returns `(scale, min_out)` with `min_out >= 0` as stored
/// by the formats (the subtracted offset).
///
/// For each candidate inverse scale it rounds, fits scale and offset by weighted least
/// squares (offset forced to at most 0, so `min_out >= 0`), and keeps the candidate with
/// the smallest weighted error.
pub(crate) fn make_qkx2_quants<const N: usize>(
    x: &[f32; N],
    weights: &[f32; N],
    p: Qkx2Params,
    levels: &mut [u8; N],
) -> (f32, f32) {
    if N == 0 {
        return (0.0, 0.0);
    }
    let mut min = x[0];
    let mut max = x[0];
    let mut sum_w = weights[0];
    let mut sum_x = sum_w * x[0];
    for (&v, &w) in x.iter().zip(weights).skip(1) {
        if v < min {
            min = v;
        }
        if v > max {
            max = v;
        }
        sum_w += w;
        sum_x += w * v;
    }
    if min > 0.0 {
        min = 0.0;
    }
    if max == min {
        levels.fill(0);
        return (0.0, -min);
    }
    let nmax = p.nmax;
    let err = |diff: f32| if p.use_mad { diff.abs() } else { diff * diff };

    let mut iscale = nmax as f32 / (max - min);
    let mut scale = 1.0 / iscale;
    let mut best_error = 0.0f32;
    for ((q, &v), &w) in levels.iter_mut().zip(x).zip(weights) {
        *q = nearest_int(iscale * (v - min)).clamp(0, nmax) as u8;
        let diff = scale * f32::from(*q) + min - v;
        best_error += w * err(diff);
    }
    if p.nstep < 1 {
        return (scale, -min);
    }
    let mut aux = [0u8; N];
    for is in 0..=p.nstep {
        iscale = (p.rmin + p.rdelta * is as f32 + nmax as f32) / (max - min);
        let mut sum_l = 0.0f32;
        let mut sum_l2 = 0.0f32;
        let mut sum_xl = 0.0f32;
        for ((a, &v), &w) in aux.iter_mut().zip(x).zip(weights) {
            let l = nearest_int(iscale * (v - min)).clamp(0, nmax);
            *a = l as u8;
            let lf = l as f32;
            sum_l += w * lf;
            sum_l2 += w * lf * lf;
            sum_xl += w * lf * v;
        }
        let det = sum_w * sum_l2 - sum_l * sum_l;
        if det > 0.0 {
            let mut this_scale = (sum_w * sum_xl - sum_x * sum_l) / det;
            let mut this_min = (sum_l2 * sum_x - sum_l * sum_xl) / det;
            if this_min > 0.0 {
                // The format can only subtract an offset: refit the scale alone.
                this_min = 0.0;
                this_scale = sum_xl / sum_l2;
            }
            let mut cur_error = 0.0f32;
            for ((&a, &v), &w) in aux.iter().zip(x).zip(weights) {
                let diff = this_scale * f32::from(a) + this_min - v;
                cur_error += w * err(diff);
            }
            if cur_error < best_error {
                *levels = aux;
                best_error = cur_error;
                scale = this_scale;
                min = this_min;
            }
        }
    }
    (scale, -min)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nearest_int_rounds_half_to_even() {
        let cases = [
            (0.5, 0),
            (1.5, 2),
            (2.5, 2),
            (-0.5, 0),
            (-1.5, -2),
            (-2.5, -2),
            (0.49, 0),
            (0.51, 1),
            (-7.3, -7),
            (1000.5, 1000),
            (1001.5, 1002),
        ];
        for (v, want) in cases {
            assert_eq!(nearest_int(v), want, "nearest_int({v})");
        }
    }

    #[test]
    fn nearest_int_never_panics() {
        for v in [
            f32::NAN,
            f32::INFINITY,
            f32::NEG_INFINITY,
            f32::MAX,
            -f32::MAX,
            1e30,
        ] {
            let _ = nearest_int(v);
        }
    }

    #[test]
    fn qx_exact_on_representable_values() {
        // x = scale * l for levels in range: the search must find the exact scale.
        let x: [f32; 16] = std::array::from_fn(|i| 0.25 * (i as f32 - 8.0));
        let mut l = [0u8; 16];
        let scale = make_qx_quants(&x, 32, &mut l);
        for (i, (&q, &v)) in l.iter().zip(&x).enumerate() {
            let back = scale * (i32::from(q) - 32) as f32;
            assert!((back - v).abs() < 0.13, "i={i} back={back} v={v}");
        }
    }

    #[test]
    fn qkx2_zero_and_constant_inputs() {
        let p = Qkx2Params {
            nmax: 15,
            rmin: -1.0,
            rdelta: 0.1,
            nstep: 20,
            use_mad: false,
        };
        let mut l = [7u8; 32];
        let (s, m) = make_qkx2_quants(&[0.0; 32], &[1.0; 32], p, &mut l);
        assert_eq!((s, m), (0.0, 0.0));
        assert_eq!(l, [0; 32]);
        // A constant negative block: max == min, represented by the offset alone.
        let (s, m) = make_qkx2_quants(&[-3.0; 32], &[1.0; 32], p, &mut l);
        assert_eq!((s, m), (0.0, 3.0));
    }
}

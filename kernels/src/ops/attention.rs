//! Single-query scaled dot-product attention over cached f16 keys and values.

use super::check_len;
use crate::KernelError;
use half::f16;

/// One query head attending to `n` cached positions: `out = softmax(scale · K·q) · V`.
///
/// `keys` and `values` hold `n` rows of `q.len()` elements each, contiguous (one KV head's
/// cache up to the current position, which is what makes the attention causal). `acc`
/// (length `q.len()`) is scratch space.
///
/// The softmax is computed online (one pass, rescaling when a new maximum appears) and the
/// weighted sum of values is accumulated in f16, as llama.cpp's CPU flash attention does
/// for an f16 cache: early positions of small models are sensitive enough that this
/// rounding moves logits by tenths, and matching it keeps us on llama.cpp's side of
/// near-ties.
pub fn attend(
    q: &[f32],
    keys: &[f16],
    values: &[f16],
    scale: f32,
    acc: &mut [f16],
    out: &mut [f32],
) -> Result<(), KernelError> {
    check_attend(q, keys, values, acc, out)?;
    attend_unchecked(q, keys, values, scale, acc, out);
    Ok(())
}

/// The length checks of [`attend`], shared by every tier's version of it.
pub(crate) fn check_attend(
    q: &[f32],
    keys: &[f16],
    values: &[f16],
    acc: &[f16],
    out: &[f32],
) -> Result<(), KernelError> {
    let d = q.len();
    check_len("attention values", keys.len(), values.len())?;
    check_len("attention accumulator", d, acc.len())?;
    check_len("attention output", d, out.len())?;
    if d == 0 || keys.is_empty() || !keys.len().is_multiple_of(d) {
        return Err(KernelError::BadLength {
            what: "attention keys (whole rows of the query's length, at least one)",
            expected: d,
            found: keys.len(),
            unit: "elements",
        });
    }
    Ok(())
}

/// The scalar twin of the SIMD attention kernels: [`attend`] after its checks.
pub(crate) fn attend_unchecked(
    q: &[f32],
    keys: &[f16],
    values: &[f16],
    scale: f32,
    acc: &mut [f16],
    out: &mut [f32],
) {
    online_attend(
        q,
        keys,
        values,
        scale,
        acc,
        out,
        |q, k| k.iter().zip(q).map(|(k, &q)| k.to_f32() * q).sum::<f32>(),
        |acc, s| {
            acc.iter_mut()
                .for_each(|a| *a = f16::from_f32(a.to_f32() * s))
        },
        |acc, v, w| {
            acc.iter_mut()
                .zip(v)
                .for_each(|(a, v)| *a = f16::from_f32(a.to_f32() + v.to_f32() * w))
        },
    );
}

/// The online-softmax loop of [`attend`] (lengths already checked), with its three inner
/// loops supplied by the caller so that each tier inlines its own:
///
/// - `dot(q, k)`: `Σ q[i]·k[i]` over one cached key row;
/// - `scale_acc(acc, s)`: `acc[i] = f16(acc[i]·s)`;
/// - `mad(acc, v, w)`: `acc[i] = f16(acc[i] + v[i]·w)`, the product and sum in f32.
///
/// The two accumulator updates round exactly as written (f32 multiply, f32 add, one
/// rounding to nearest f16), so every tier's value accumulation is bit-identical to the
/// scalar one; only the order of the f32 additions in `dot` differs between tiers.
#[inline(always)]
#[allow(clippy::too_many_arguments)]
pub(crate) fn online_attend(
    q: &[f32],
    keys: &[f16],
    values: &[f16],
    scale: f32,
    acc: &mut [f16],
    out: &mut [f32],
    dot: impl Fn(&[f32], &[f16]) -> f32,
    scale_acc: impl Fn(&mut [f16], f32),
    mad: impl Fn(&mut [f16], &[f16], f32),
) {
    let d = q.len();
    acc.fill(f16::ZERO);
    let (mut max, mut sum) = (f32::NEG_INFINITY, 0.0f32);
    for (k, v) in keys.chunks_exact(d).zip(values.chunks_exact(d)) {
        let score = scale * dot(q, k);
        // `rescale` shrinks what was accumulated under the old maximum; `weight` is this
        // position's share under the current one.
        let (rescale, weight) = if score > max {
            let old = max;
            max = score;
            ((old - max).exp(), 1.0)
        } else {
            (1.0, (score - max).exp())
        };
        if rescale != 1.0 {
            scale_acc(acc, rescale);
        }
        mad(acc, v, weight);
        sum = sum * rescale + weight;
    }
    out.iter_mut()
        .zip(acc.iter())
        .for_each(|(o, a)| *o = a.to_f32() / sum);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ops::softmax;

    fn h(v: &[f32]) -> Vec<f16> {
        v.iter().map(|&x| f16::from_f32(x)).collect()
    }

    #[test]
    fn picks_the_matching_key() {
        let keys = h(&[10.0, 0.0, 0.0, 10.0]);
        let values = h(&[1.0, 2.0, 3.0, 4.0]);
        let (mut acc, mut out) = ([f16::ZERO; 2], [0.0; 2]);
        attend(&[0.0, 1.0], &keys, &values, 1.0, &mut acc, &mut out).unwrap();
        assert!((out[0] - 3.0).abs() < 1e-3 && (out[1] - 4.0).abs() < 1e-3);
        assert!(attend(
            &[0.0, 1.0],
            &keys[..3],
            &values[..3],
            1.0,
            &mut acc,
            &mut out
        )
        .is_err());
        assert!(attend(&[0.0, 1.0], &[], &[], 1.0, &mut acc, &mut out).is_err());
    }

    #[test]
    fn equals_two_pass_softmax() {
        let (d, n) = (4, 7);
        let kf: Vec<f32> = (0..n * d)
            .map(|i| ((i * 37 % 11) as f32 - 5.0) / 3.0)
            .collect();
        let vf: Vec<f32> = (0..n * d)
            .map(|i| ((i * 13 % 7) as f32 - 3.0) / 2.0)
            .collect();
        let q = [0.5, -1.0, 0.25, 2.0];
        let (keys, values) = (h(&kf), h(&vf));
        let (mut acc, mut out) = (vec![f16::ZERO; d], vec![0.0; d]);
        attend(&q, &keys, &values, 0.5, &mut acc, &mut out).unwrap();
        let mut w: Vec<f32> = keys
            .chunks(d)
            .map(|k| 0.5 * k.iter().zip(&q).map(|(k, q)| k.to_f32() * q).sum::<f32>())
            .collect();
        softmax(&mut w);
        for j in 0..d {
            let expected: f32 = (0..n).map(|p| w[p] * values[p * d + j].to_f32()).sum();
            assert!(
                (out[j] - expected).abs() < 1e-2,
                "{j}: {} vs {expected}",
                out[j]
            );
        }
    }
}

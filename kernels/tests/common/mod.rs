//! Helpers shared by the integration tests: random blocks with controlled scales, and
//! the magnitude bound `Σ|terms|` that SIMD/scalar differences are measured against.
#![allow(dead_code)]

use edge_kernels::{GgmlType, KernelTable, Tier};
use edge_quant::k_quants::{BlockQ2K, BlockQ4K, BlockQ5K, BlockQ6K, BlockQ8K};
use edge_quant::legacy::{BlockQ4_0, BlockQ4_1, BlockQ5_1, BlockQ8_0, BlockQ8_1};
use proptest::prelude::*;

/// Every quantized and half-precision weight type the kernel tables compute with.
pub const WEIGHT_TYPES: [GgmlType; 15] = [
    GgmlType::Q4_0,
    GgmlType::Q4_1,
    GgmlType::Q5_0,
    GgmlType::Q5_1,
    GgmlType::Q8_0,
    GgmlType::Q2_K,
    GgmlType::Q3_K,
    GgmlType::Q4_K,
    GgmlType::Q5_K,
    GgmlType::Q6_K,
    GgmlType::IQ4_NL,
    GgmlType::IQ4_XS,
    GgmlType::F16,
    GgmlType::BF16,
    GgmlType::F32,
];

/// Deterministic values in [-0.5, 0.5] (a multiplicative hash of the index), no RNG needed.
pub fn values(n: usize, seed: u32) -> Vec<f32> {
    (0..n)
        .map(|i| ((i as u32).wrapping_mul(2_654_435_761) ^ seed) as f32 / u32::MAX as f32 - 0.5)
        .collect()
}

/// `default` proptest cases, or `PROPTEST_CASES` if that is set (the aarch64 run under
/// qemu sets it lower); `with_cases` alone would ignore the variable.
pub fn config(default: u32) -> ProptestConfig {
    let cases = std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default);
    ProptestConfig::with_cases(cases)
}

/// Every tier this CPU can run, scalar first.
pub fn available_tables() -> Vec<&'static KernelTable> {
    Tier::ALL
        .into_iter()
        .filter_map(|t| KernelTable::for_tier(t).ok())
        .collect()
}

/// Quant bytes: uniformly random, or drawn from the extremes of every packing.
pub fn quant_byte() -> impl Strategy<Value = u8> {
    prop_oneof![
        3 => any::<u8>(),
        1 => prop::sample::select(vec![0x00u8, 0xff, 0x80, 0x7f, 0x0f, 0xf0, 0x88, 0x01]),
    ]
}

/// A finite f16 scale: any finite value (including negative and subnormal), or ±0, or
/// a subnormal, or a typical small scale.
pub fn f16_scale() -> impl Strategy<Value = [u8; 2]> {
    prop_oneof![
        2 => any::<u16>().prop_map(|b| if (b >> 10) & 0x1f == 0x1f { b & 0xfbff } else { b }),
        1 => prop::sample::select(vec![0x0000u16, 0x8000]),
        1 => (1u16..0x0400, any::<bool>()).prop_map(|(m, s)| m | (u16::from(s) << 15)),
        2 => (-0.1f32..0.1).prop_map(|v| half::f16::from_f32(v).to_bits()),
    ]
    .prop_map(u16::to_le_bytes)
}

/// A finite f32 scale for Q8_K, including ±0 and subnormals.
pub fn f32_scale() -> impl Strategy<Value = f32> {
    prop_oneof![
        3 => -1.0e3f32..1.0e3,
        1 => prop::sample::select(vec![0.0f32, -0.0, 1.0e-40, -3.0e-42, f32::MIN_POSITIVE]),
        2 => -0.01f32..0.01,
    ]
}

/// `n` blocks of `T` from random quant bytes, then `fix` applied to each block (to
/// set its scales).
pub fn blocks<T: bytemuck::Pod + std::fmt::Debug, S: Strategy + 'static>(
    n: usize,
    scales: S,
    fix: fn(&mut T, S::Value),
) -> impl Strategy<Value = Vec<T>>
where
    S::Value: std::fmt::Debug + Clone,
{
    (
        prop::collection::vec(quant_byte(), n * size_of::<T>()),
        prop::collection::vec(scales, n),
    )
        .prop_map(move |(bytes, sc)| {
            let mut v: Vec<T> = bytes
                .chunks_exact(size_of::<T>())
                .map(bytemuck::pod_read_unaligned)
                .collect();
            for (b, s) in v.iter_mut().zip(sc) {
                fix(b, s);
            }
            v
        })
}

fn f16(b: [u8; 2]) -> f64 {
    f64::from(half::f16::from_le_bytes(b).to_f32())
}

/// Σ over blocks of |d_w·d_a|·Σ|(q-8)·y|.
pub fn bound_q4_0(w: &[BlockQ4_0], a: &[BlockQ8_0]) -> f64 {
    w.iter()
        .zip(a)
        .map(|(bw, ba)| {
            let s: i64 = (0..16)
                .map(|j| {
                    let lo = i64::from(bw.qs[j] & 15) - 8;
                    let hi = i64::from(bw.qs[j] >> 4) - 8;
                    (lo * i64::from(ba.qs[j])).abs() + (hi * i64::from(ba.qs[j + 16])).abs()
                })
                .sum();
            (f16(bw.d) * f16(ba.d)).abs() * s as f64
        })
        .sum()
}

/// Σ over blocks of |d_w·d_a|·Σ|q·y| + |m·s|.
pub fn bound_q4_1(w: &[BlockQ4_1], a: &[BlockQ8_1]) -> f64 {
    w.iter()
        .zip(a)
        .map(|(bw, ba)| {
            let s: i64 = (0..16)
                .map(|j| {
                    (i64::from(bw.qs[j] & 15) * i64::from(ba.qs[j])).abs()
                        + (i64::from(bw.qs[j] >> 4) * i64::from(ba.qs[j + 16])).abs()
                })
                .sum();
            (f16(bw.d) * f16(ba.d)).abs() * s as f64 + (f16(bw.m) * f16(ba.s)).abs()
        })
        .sum()
}

/// Σ over blocks of |d_w·d_a|·Σ|x·y|.
pub fn bound_q8_0(w: &[BlockQ8_0], a: &[BlockQ8_0]) -> f64 {
    w.iter()
        .zip(a)
        .map(|(bw, ba)| {
            let s: i64 = bw
                .qs
                .iter()
                .zip(&ba.qs)
                .map(|(&x, &y)| (i64::from(x) * i64::from(y)).abs())
                .sum();
            (f16(bw.d) * f16(ba.d)).abs() * s as f64
        })
        .sum()
}

/// Σ over blocks of |d·d_a|·Σ_j sc_j·Σ|q·y| + |dmin·d_a|·Σ_j m_j·|bsum_j|.
pub fn bound_q4_k(w: &[BlockQ4K], a: &[BlockQ8K]) -> f64 {
    w.iter()
        .zip(a)
        .map(|(bw, ba)| {
            let (mut s, mut m) = (0i64, 0i64);
            for j in 0..8 {
                let (sc, mn) = bw.scale_min(j);
                let (c, shift) = (j / 2, 4 * (j % 2));
                let t: i64 = (0..32)
                    .map(|l| {
                        (i64::from((bw.qs[32 * c + l] >> shift) & 15) * i64::from(ba.q(32 * j + l)))
                            .abs()
                    })
                    .sum();
                s += i64::from(sc) * t;
                m += i64::from(mn)
                    * (i64::from(ba.bsum(2 * j)) + i64::from(ba.bsum(2 * j + 1))).abs();
            }
            let da = f64::from(ba.d());
            (f16(bw.d) * da).abs() * s as f64 + (f16(bw.dmin) * da).abs() * m as f64
        })
        .sum()
}

/// Σ over blocks of |d·d_a|·Σ_j |sc_j|·Σ|(q-32)·y|, via the block's own dequantizer.
pub fn bound_q6_k(w: &[BlockQ6K], a: &[BlockQ8K]) -> f64 {
    w.iter()
        .zip(a)
        .map(|(bw, ba)| {
            let mut s = 0i64;
            for e in 0..256 {
                let (h, k, l) = (e / 128, (e / 32) % 4, e % 32);
                let low = (bw.ql[64 * h + 32 * (k % 2) + l] >> (4 * (k / 2))) & 15;
                let high = (bw.qh[32 * h + l] >> (2 * k)) & 3;
                let q = i64::from(low | (high << 4)) - 32;
                s += (i64::from(bw.scale(e / 16)) * q * i64::from(ba.q(e))).abs();
            }
            (f16(bw.d) * f64::from(ba.d())).abs() * s as f64
        })
        .sum()
}

/// Σ|w_i·a_i| over the rows decoded by edge-quant's reference dequantizers: the bound
/// for formats without a separately stored min/offset term.
pub fn bound_dequantized<W: bytemuck::Pod, A: bytemuck::Pod>(
    wty: GgmlType,
    w: &[W],
    aty: GgmlType,
    a: &[A],
) -> f64 {
    let decode = |ty: GgmlType, bytes: &[u8]| {
        let mut out = vec![0f32; bytes.len() / ty.type_size() * ty.block_size()];
        edge_quant::dequantize(ty, bytes, &mut out).unwrap();
        out
    };
    let wd = decode(wty, bytemuck::cast_slice(w));
    let ad = decode(aty, bytemuck::cast_slice(a));
    wd.iter()
        .zip(&ad)
        .map(|(x, y)| (f64::from(*x) * f64::from(*y)).abs())
        .sum()
}

/// The 5-bit quant `i` of a Q5_0/Q5_1 block.
fn q5(qs: &[u8; 16], qh: [u8; 4], i: usize) -> i64 {
    let nib = if i < 16 { qs[i] & 15 } else { qs[i - 16] >> 4 };
    i64::from(nib) | i64::from((u32::from_le_bytes(qh) >> i) & 1) << 4
}

/// Σ over blocks of |d_w·d_a|·Σ|q·y| + |m·s|.
pub fn bound_q5_1(w: &[BlockQ5_1], a: &[BlockQ8_1]) -> f64 {
    w.iter()
        .zip(a)
        .map(|(bw, ba)| {
            let s: i64 = (0..32)
                .map(|i| (q5(&bw.qs, bw.qh, i) * i64::from(ba.qs[i])).abs())
                .sum();
            (f16(bw.d) * f16(ba.d)).abs() * s as f64 + (f16(bw.m) * f16(ba.s)).abs()
        })
        .sum()
}

/// Σ over blocks of |d·d_a|·Σ_j sc_j·Σ|q·y| + |dmin·d_a|·Σ_j m_j·|bsum_j| (5-bit quants).
pub fn bound_q5_k(w: &[BlockQ5K], a: &[BlockQ8K]) -> f64 {
    w.iter()
        .zip(a)
        .map(|(bw, ba)| {
            let (mut s, mut m) = (0i64, 0i64);
            for j in 0..8 {
                let (sc, mn) = bw.scale_min(j);
                let (c, shift) = (j / 2, 4 * (j % 2));
                let t: i64 = (0..32)
                    .map(|l| {
                        let q = ((bw.qs[32 * c + l] >> shift) & 15) | (((bw.qh[l] >> j) & 1) << 4);
                        (i64::from(q) * i64::from(ba.q(32 * j + l))).abs()
                    })
                    .sum();
                s += i64::from(sc) * t;
                m += i64::from(mn)
                    * (i64::from(ba.bsum(2 * j)) + i64::from(ba.bsum(2 * j + 1))).abs();
            }
            let da = f64::from(ba.d());
            (f16(bw.d) * da).abs() * s as f64 + (f16(bw.dmin) * da).abs() * m as f64
        })
        .sum()
}

/// Σ over blocks of |d·d_a|·Σ_s sc_s·Σ|q·y| + |dmin·d_a|·Σ_s m_s·|bsum_s|.
pub fn bound_q2_k(w: &[BlockQ2K], a: &[BlockQ8K]) -> f64 {
    w.iter()
        .zip(a)
        .map(|(bw, ba)| {
            let (mut s, mut m) = (0i64, 0i64);
            for e in 0..256 {
                let (h, k, l) = (e / 128, (e / 32) % 4, e % 32);
                let q = (bw.qs[32 * h + l] >> (2 * k)) & 3;
                s += i64::from(bw.scales[e / 16] & 15) * (i64::from(q) * i64::from(ba.q(e))).abs();
            }
            for j in 0..16 {
                m += i64::from(bw.scales[j] >> 4) * i64::from(ba.bsum(j)).abs();
            }
            let da = f64::from(ba.d());
            (f16(bw.d) * da).abs() * s as f64 + (f16(bw.dmin) * da).abs() * m as f64
        })
        .sum()
}

/// Asserts `got` is within `rel · bound` (plus a subnormal-sized slack) of `want`.
pub fn assert_close(ty: GgmlType, tier: Tier, got: f32, want: f32, bound: f64, rel: f64) {
    let tol = rel * bound + 1e-37;
    let diff = (f64::from(got) - f64::from(want)).abs();
    assert!(
        diff <= tol || (got.is_nan() && want.is_nan()),
        "{ty:?} on {tier}: got {got:e}, scalar {want:e}, |diff| {diff:e} > tol {tol:e}"
    );
}

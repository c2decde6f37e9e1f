//! Tiled attention ([`crate::ops::attend_tile`]) with NEON: the row tile of sixteen
//! queries is four registers, so scores, softmax and weights run four rows per
//! instruction; the value accumulation runs four rows × 16 columns per step. Keys and
//! values are widened from f16 one element at a time (the f16 vector types are not
//! stable Rust).
//!
//! Every element is computed with the operations of the scalar twin in the same order
//! (fused multiply-adds, the same polynomial `exp`), so results are bit-identical.

use crate::ops::attention_tile::{exp_consts as c, tiled_attend, TileOps, TILE_ROWS};
use core::arch::aarch64::*;
use half::f16;
use std::ops::Range;

const _: () = assert!(TILE_ROWS == 16);

/// Four f32 from `x`.
#[inline]
#[target_feature(enable = "neon")]
fn load(x: &[f32]) -> float32x4_t {
    assert!(x.len() >= 4);
    // SAFETY: `x` holds at least 4 f32; `vld1q_f32` has no alignment requirement beyond
    // an f32's.
    unsafe { vld1q_f32(x.as_ptr()) }
}

/// Four f32 into `x`.
#[inline]
#[target_feature(enable = "neon")]
fn store(x: &mut [f32], v: float32x4_t) {
    assert!(x.len() >= 4);
    // SAFETY: `x` holds at least 4 f32; `vst1q_f32` has no alignment requirement beyond
    // an f32's.
    unsafe { vst1q_f32(x.as_mut_ptr(), v) }
}

/// Lane-wise [`crate::ops::attention_tile::exp`].
#[inline]
#[target_feature(enable = "neon")]
fn exp(x: float32x4_t) -> float32x4_t {
    let lo = vdupq_n_f32(c::LO);
    let hi = vdupq_n_f32(c::HI);
    let zero = vcltq_f32(x, lo);
    // `a > b ? a : b` and `a < b ? a : b`, as the scalar twin (and x86) compute them.
    let x = vbslq_f32(vcgtq_f32(x, lo), x, lo);
    let x = vbslq_f32(vcltq_f32(x, hi), x, hi);
    let round = vdupq_n_f32(c::ROUND);
    let t = vfmaq_f32(round, x, vdupq_n_f32(std::f32::consts::LOG2_E));
    let n = vsubq_f32(t, round);
    let r = vfmaq_f32(x, n, vdupq_n_f32(-c::LN2_HI));
    let r = vfmaq_f32(r, n, vdupq_n_f32(-c::LN2_LO));
    let mut p = vdupq_n_f32(c::P[0]);
    for &k in &c::P[1..] {
        p = vfmaq_f32(vdupq_n_f32(k), p, r);
    }
    let y = vaddq_f32(vfmaq_f32(r, p, vmulq_f32(r, r)), vdupq_n_f32(1.0));
    let k = vsubq_s32(vreinterpretq_s32_f32(t), vreinterpretq_s32_f32(round));
    let e = vreinterpretq_f32_s32(vaddq_s32(vreinterpretq_s32_f32(y), vshlq_n_s32::<23>(k)));
    vbslq_f32(zero, vdupq_n_f32(0.0), e)
}

/// `a > b ? a : b`, lane-wise.
#[inline]
#[target_feature(enable = "neon")]
fn max(a: float32x4_t, b: float32x4_t) -> float32x4_t {
    vbslq_f32(vcgtq_f32(a, b), a, b)
}

/// Scores of the tile (see the scalar `scores`): four keys at a time, four registers of
/// four rows each.
#[inline]
#[target_feature(enable = "neon")]
fn scores(qt: &[f32], k: &[f32], scale: f32, st: &mut [f32]) {
    const J: usize = 4;
    let d = qt.len() / 16;
    let qt = &qt[..d * 16];
    let mut kc = k.chunks_exact(J * d);
    let mut sc = st.chunks_exact_mut(J * 16);
    for (kb, sb) in (&mut kc).zip(&mut sc) {
        let mut acc = [[vdupq_n_f32(0.0); 4]; J];
        for (i, qi) in qt.chunks_exact(16).enumerate() {
            let qv: [float32x4_t; 4] = core::array::from_fn(|x| load(&qi[4 * x..]));
            for (j, aj) in acc.iter_mut().enumerate() {
                // SAFETY: `qt` holds `d` rows, so `i < d`; `j < J` and `kb` holds `J` rows of
                // `d` keys, so the index is within `kb`.
                let kji = unsafe { *kb.get_unchecked(j * d + i) };
                let kv = vdupq_n_f32(kji);
                for (a, &q) in aj.iter_mut().zip(&qv) {
                    *a = vfmaq_f32(*a, kv, q);
                }
            }
        }
        for (j, aj) in acc.iter().enumerate() {
            for (x, &a) in aj.iter().enumerate() {
                store(&mut sb[j * 16 + 4 * x..], vmulq_n_f32(a, scale));
            }
        }
    }
    for (kj, sj) in kc
        .remainder()
        .chunks_exact(d)
        .zip(sc.into_remainder().chunks_exact_mut(16))
    {
        let mut acc = [vdupq_n_f32(0.0); 4];
        for (&kv, qi) in kj.iter().zip(qt.chunks_exact(16)) {
            let kv = vdupq_n_f32(kv);
            for (x, a) in acc.iter_mut().enumerate() {
                *a = vfmaq_f32(*a, kv, load(&qi[4 * x..]));
            }
        }
        for (x, &a) in acc.iter().enumerate() {
            store(&mut sj[4 * x..], vmulq_n_f32(a, scale));
        }
    }
}

/// The online-softmax step (see the scalar `softmax`), four rows per register.
#[inline]
#[target_feature(enable = "neon")]
fn softmax(st: &mut [f32], m: &mut [f32], l: &mut [f32], factor: &mut [f32]) {
    for h in (0..16).step_by(4) {
        let m_old = load(&m[h..]);
        let m_new = st
            .chunks_exact(16)
            .fold(m_old, |mx, sj| max(load(&sj[h..]), mx));
        let ninf = vceqq_f32(m_new, vdupq_n_f32(f32::NEG_INFINITY));
        let safe = vbslq_f32(ninf, vdupq_n_f32(0.0), m_new);
        let f = exp(vsubq_f32(m_old, safe));
        let mut sum = vdupq_n_f32(0.0);
        for sj in st.chunks_exact_mut(16) {
            let p = exp(vsubq_f32(load(&sj[h..]), safe));
            store(&mut sj[h..], p);
            sum = vaddq_f32(sum, p);
        }
        let l_new = vaddq_f32(vmulq_f32(load(&l[h..]), f), sum);
        store(&mut l[h..], l_new);
        store(&mut m[h..], m_new);
        store(&mut factor[h..], f);
    }
}

/// `acc[r] ← acc[r]·factor[r] + Σ_j p[j][r]·v[j]` (see the scalar `accumulate`): four
/// rows × 16 columns in sixteen registers, then 4-column strips, then single columns.
#[inline]
#[target_feature(enable = "neon")]
fn accumulate(p: &[f32], v: &[f32], factor: &[f32], acc: &mut [f32]) {
    const R: usize = 4;
    let d = acc.len() / 16;
    let tn = p.len() / 16;
    let v = &v[..tn * d];
    let wide = d / 16 * 16;
    let strips = d / 4 * 4;
    for (rb, ab) in acc.chunks_exact_mut(R * d).enumerate() {
        let r0 = rb * R;
        for c0 in (0..wide).step_by(16) {
            let mut a = [[vdupq_n_f32(0.0); 4]; R];
            for (r, ar) in a.iter_mut().enumerate() {
                for (x, ax) in ar.iter_mut().enumerate() {
                    *ax = vmulq_n_f32(load(&ab[r * d + c0 + 4 * x..]), factor[r0 + r]);
                }
            }
            for (j, vj) in v.chunks_exact(d).enumerate() {
                let vv: [float32x4_t; 4] = core::array::from_fn(|x| load(&vj[c0 + 4 * x..]));
                for (r, ar) in a.iter_mut().enumerate() {
                    let w = vdupq_n_f32(p[j * 16 + r0 + r]);
                    for (ax, &vx) in ar.iter_mut().zip(&vv) {
                        *ax = vfmaq_f32(*ax, w, vx);
                    }
                }
            }
            for (r, ar) in a.iter().enumerate() {
                for (x, &ax) in ar.iter().enumerate() {
                    store(&mut ab[r * d + c0 + 4 * x..], ax);
                }
            }
        }
        for c0 in (wide..strips).step_by(4) {
            let mut a: [float32x4_t; R] =
                core::array::from_fn(|r| vmulq_n_f32(load(&ab[r * d + c0..]), factor[r0 + r]));
            for (j, vj) in v.chunks_exact(d).enumerate() {
                let vx = load(&vj[c0..]);
                for (r, ar) in a.iter_mut().enumerate() {
                    *ar = vfmaq_f32(*ar, vdupq_n_f32(p[j * 16 + r0 + r]), vx);
                }
            }
            for (r, &ar) in a.iter().enumerate() {
                store(&mut ab[r * d + c0..], ar);
            }
        }
        for (r, ar) in ab.chunks_exact_mut(d).enumerate() {
            let f = factor[r0 + r];
            for (col, a) in ar.iter_mut().enumerate().skip(strips) {
                let mut x = *a * f;
                for (j, vj) in v.chunks_exact(d).enumerate() {
                    x = p[j * 16 + r0 + r].mul_add(vj[col], x);
                }
                *a = x;
            }
        }
    }
}

/// NEON version of [`crate::ops::attend_tile`] (arguments already checked).
///
/// # Safety
/// The CPU must support NEON.
#[target_feature(enable = "neon")]
pub unsafe fn attend_tile(
    q: &[f32],
    spans: &[Range<usize>],
    keys: &[f16],
    values: &[f16],
    scale: f32,
    scratch: &mut [f32],
    out: &mut [f32],
) {
    tiled_attend(
        q,
        spans,
        keys,
        values,
        scale,
        scratch,
        out,
        TileOps {
            widen: |s: &[f16], d: &mut [f32]| {
                d.iter_mut().zip(s).for_each(|(d, s)| *d = s.to_f32())
            },
            scores: |qt: &[f32], k: &[f32], scale, st: &mut [f32]| scores(qt, k, scale, st),
            softmax: |st: &mut [f32], m: &mut [f32], l: &mut [f32], f: &mut [f32]| {
                softmax(st, m, l, f)
            },
            accumulate: |p: &[f32], v: &[f32], f: &[f32], a: &mut [f32]| accumulate(p, v, f, a),
        },
    );
}

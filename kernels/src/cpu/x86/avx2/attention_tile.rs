//! Tiled attention ([`crate::ops::attend_tile`]) with AVX2 + FMA + F16C: the row tile of
//! sixteen queries is two registers, so scores, softmax and weights run eight rows per
//! instruction; the value accumulation runs two rows × 32 columns per step.
//!
//! Every element is computed with the operations of the scalar twin in the same order
//! (fused multiply-adds, the same polynomial `exp`), so results are bit-identical.

use crate::ops::attention_tile::{exp_consts as c, tiled_attend, TileOps, TILE_ROWS};
use core::arch::x86_64::*;
use half::f16;
use std::ops::Range;

const _: () = assert!(TILE_ROWS == 16);

/// Eight f32 from `x`.
#[inline]
#[target_feature(enable = "avx2,fma,f16c")]
fn load(x: &[f32]) -> __m256 {
    assert!(x.len() >= 8);
    // SAFETY: `x` holds at least 8 f32; `loadu` has no alignment requirement.
    unsafe { _mm256_loadu_ps(x.as_ptr()) }
}

/// Eight f32 into `x`.
#[inline]
#[target_feature(enable = "avx2,fma,f16c")]
fn store(x: &mut [f32], v: __m256) {
    assert!(x.len() >= 8);
    // SAFETY: `x` holds at least 8 f32; `storeu` has no alignment requirement.
    unsafe { _mm256_storeu_ps(x.as_mut_ptr(), v) }
}

/// `src` widened to f32 into `dst` (the shorter length).
#[inline]
#[target_feature(enable = "avx2,fma,f16c")]
fn widen(src: &[f16], dst: &mut [f32]) {
    let mut sc = src.chunks_exact(8);
    let mut dc = dst.chunks_exact_mut(8);
    for (s, d) in (&mut sc).zip(&mut dc) {
        // SAFETY: `s` holds 8 f16 (16 readable bytes); `loadu` has no alignment
        // requirement.
        let h = unsafe { _mm_loadu_si128(s.as_ptr().cast()) };
        store(d, _mm256_cvtph_ps(h));
    }
    for (d, s) in dc.into_remainder().iter_mut().zip(sc.remainder()) {
        *d = s.to_f32();
    }
}

/// Lane-wise [`crate::ops::attention_tile::exp`].
#[inline]
#[target_feature(enable = "avx2,fma,f16c")]
fn exp(x: __m256) -> __m256 {
    let zero = _mm256_cmp_ps::<_CMP_LT_OQ>(x, _mm256_set1_ps(c::LO));
    let x = _mm256_max_ps(x, _mm256_set1_ps(c::LO));
    let x = _mm256_min_ps(x, _mm256_set1_ps(c::HI));
    let round = _mm256_set1_ps(c::ROUND);
    let t = _mm256_fmadd_ps(x, _mm256_set1_ps(std::f32::consts::LOG2_E), round);
    let n = _mm256_sub_ps(t, round);
    let r = _mm256_fmadd_ps(n, _mm256_set1_ps(-c::LN2_HI), x);
    let r = _mm256_fmadd_ps(n, _mm256_set1_ps(-c::LN2_LO), r);
    let mut p = _mm256_set1_ps(c::P[0]);
    for &k in &c::P[1..] {
        p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(k));
    }
    let y = _mm256_add_ps(
        _mm256_fmadd_ps(p, _mm256_mul_ps(r, r), r),
        _mm256_set1_ps(1.0),
    );
    let k = _mm256_sub_epi32(_mm256_castps_si256(t), _mm256_castps_si256(round));
    let e = _mm256_castsi256_ps(_mm256_add_epi32(
        _mm256_castps_si256(y),
        _mm256_slli_epi32::<23>(k),
    ));
    _mm256_andnot_ps(zero, e)
}

/// Scores of the tile (see the scalar `scores`): four keys at a time, two registers of
/// eight rows each.
#[inline]
#[target_feature(enable = "avx2,fma,f16c")]
fn scores(qt: &[f32], k: &[f32], scale: f32, st: &mut [f32]) {
    const J: usize = 4;
    let d = qt.len() / 16;
    let qt = &qt[..d * 16];
    let sv = _mm256_set1_ps(scale);
    let mut kc = k.chunks_exact(J * d);
    let mut sc = st.chunks_exact_mut(J * 16);
    for (kb, sb) in (&mut kc).zip(&mut sc) {
        let mut acc = [[_mm256_setzero_ps(); 2]; J];
        for (i, qi) in qt.chunks_exact(16).enumerate() {
            let (q0, q1) = (load(qi), load(&qi[8..]));
            for (j, [a0, a1]) in acc.iter_mut().enumerate() {
                // SAFETY: `qt` holds `d` rows, so `i < d`; `j < J` and `kb` holds `J` rows of
                // `d` keys, so the index is within `kb`.
                let kji = unsafe { *kb.get_unchecked(j * d + i) };
                let kv = _mm256_set1_ps(kji);
                *a0 = _mm256_fmadd_ps(kv, q0, *a0);
                *a1 = _mm256_fmadd_ps(kv, q1, *a1);
            }
        }
        for (j, [a0, a1]) in acc.into_iter().enumerate() {
            store(&mut sb[j * 16..], _mm256_mul_ps(a0, sv));
            store(&mut sb[j * 16 + 8..], _mm256_mul_ps(a1, sv));
        }
    }
    for (kj, sj) in kc
        .remainder()
        .chunks_exact(d)
        .zip(sc.into_remainder().chunks_exact_mut(16))
    {
        let (mut a0, mut a1) = (_mm256_setzero_ps(), _mm256_setzero_ps());
        for (&kv, qi) in kj.iter().zip(qt.chunks_exact(16)) {
            let kv = _mm256_set1_ps(kv);
            a0 = _mm256_fmadd_ps(kv, load(qi), a0);
            a1 = _mm256_fmadd_ps(kv, load(&qi[8..]), a1);
        }
        store(sj, _mm256_mul_ps(a0, sv));
        store(&mut sj[8..], _mm256_mul_ps(a1, sv));
    }
}

/// The online-softmax step (see the scalar `softmax`), eight rows per register.
#[inline]
#[target_feature(enable = "avx2,fma,f16c")]
fn softmax(st: &mut [f32], m: &mut [f32], l: &mut [f32], factor: &mut [f32]) {
    for h in [0, 8] {
        let m_old = load(&m[h..]);
        let m_new = st
            .chunks_exact(16)
            .fold(m_old, |mx, sj| _mm256_max_ps(load(&sj[h..]), mx));
        let ninf = _mm256_cmp_ps::<_CMP_EQ_OQ>(m_new, _mm256_set1_ps(f32::NEG_INFINITY));
        let safe = _mm256_andnot_ps(ninf, m_new);
        let f = exp(_mm256_sub_ps(m_old, safe));
        let mut sum = _mm256_setzero_ps();
        for sj in st.chunks_exact_mut(16) {
            let p = exp(_mm256_sub_ps(load(&sj[h..]), safe));
            store(&mut sj[h..], p);
            sum = _mm256_add_ps(sum, p);
        }
        let l_new = _mm256_add_ps(_mm256_mul_ps(load(&l[h..]), f), sum);
        store(&mut l[h..], l_new);
        store(&mut m[h..], m_new);
        store(&mut factor[h..], f);
    }
}

/// `acc[r] ← acc[r]·factor[r] + Σ_j p[j][r]·v[j]` (see the scalar `accumulate`): two
/// rows × 32 columns in eight registers, then 8-column strips, then single columns.
#[inline]
#[target_feature(enable = "avx2,fma,f16c")]
fn accumulate(p: &[f32], v: &[f32], factor: &[f32], acc: &mut [f32]) {
    const R: usize = 2;
    let d = acc.len() / 16;
    let tn = p.len() / 16;
    let v = &v[..tn * d];
    let wide = d / 32 * 32;
    let strips = d / 8 * 8;
    for (rb, ab) in acc.chunks_exact_mut(R * d).enumerate() {
        let r0 = rb * R;
        let pr = |j: usize, r: usize| _mm256_set1_ps(p[j * 16 + r0 + r]);
        for c0 in (0..wide).step_by(32) {
            let mut a = [[_mm256_setzero_ps(); 4]; R];
            for (r, ar) in a.iter_mut().enumerate() {
                let f = _mm256_set1_ps(factor[r0 + r]);
                for (x, ax) in ar.iter_mut().enumerate() {
                    *ax = _mm256_mul_ps(load(&ab[r * d + c0 + 8 * x..]), f);
                }
            }
            for (j, vj) in v.chunks_exact(d).enumerate() {
                let vv: [__m256; 4] = core::array::from_fn(|x| load(&vj[c0 + 8 * x..]));
                for (r, ar) in a.iter_mut().enumerate() {
                    let w = pr(j, r);
                    for (ax, &vx) in ar.iter_mut().zip(&vv) {
                        *ax = _mm256_fmadd_ps(w, vx, *ax);
                    }
                }
            }
            for (r, ar) in a.iter().enumerate() {
                for (x, &ax) in ar.iter().enumerate() {
                    store(&mut ab[r * d + c0 + 8 * x..], ax);
                }
            }
        }
        for c0 in (wide..strips).step_by(8) {
            let mut a: [__m256; R] = core::array::from_fn(|r| {
                _mm256_mul_ps(load(&ab[r * d + c0..]), _mm256_set1_ps(factor[r0 + r]))
            });
            for (j, vj) in v.chunks_exact(d).enumerate() {
                let vx = load(&vj[c0..]);
                for (r, ar) in a.iter_mut().enumerate() {
                    *ar = _mm256_fmadd_ps(pr(j, r), vx, *ar);
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

/// AVX2 version of [`crate::ops::attend_tile`] (arguments already checked).
///
/// # Safety
/// The CPU must support AVX2, FMA and F16C.
#[target_feature(enable = "avx2,fma,f16c")]
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
            widen: |s: &[f16], d: &mut [f32]| widen(s, d),
            scores: |qt: &[f32], k: &[f32], scale, st: &mut [f32]| scores(qt, k, scale, st),
            softmax: |st: &mut [f32], m: &mut [f32], l: &mut [f32], f: &mut [f32]| {
                softmax(st, m, l, f)
            },
            accumulate: |p: &[f32], v: &[f32], f: &[f32], a: &mut [f32]| accumulate(p, v, f, a),
        },
    );
}

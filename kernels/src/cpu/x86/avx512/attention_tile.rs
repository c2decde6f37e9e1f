//! Tiled attention ([`crate::ops::attend_tile`]) with AVX-512F: the row tile of sixteen
//! queries is one register, so scores, softmax and weights run sixteen rows per
//! instruction; the value accumulation runs four rows × 64 columns per step.
//!
//! Every element is computed with the operations of the scalar twin in the same order
//! (fused multiply-adds, the same polynomial `exp`), so results are bit-identical.

use crate::ops::attention_tile::{exp_consts as c, tiled_attend, TileOps, TILE_ROWS};
use core::arch::x86_64::*;
use half::f16;
use std::ops::Range;

const _: () = assert!(TILE_ROWS == 16);

/// Sixteen f32 from `x`.
#[inline]
#[target_feature(enable = "avx512f,avx2,fma,f16c")]
fn load(x: &[f32]) -> __m512 {
    assert!(x.len() >= 16);
    // SAFETY: `x` holds at least 16 f32; `loadu` has no alignment requirement.
    unsafe { _mm512_loadu_ps(x.as_ptr()) }
}

/// Sixteen f32 into `x`.
#[inline]
#[target_feature(enable = "avx512f,avx2,fma,f16c")]
fn store(x: &mut [f32], v: __m512) {
    assert!(x.len() >= 16);
    // SAFETY: `x` holds at least 16 f32; `storeu` has no alignment requirement.
    unsafe { _mm512_storeu_ps(x.as_mut_ptr(), v) }
}

/// `src` widened to f32 into `dst` (the shorter length).
#[inline]
#[target_feature(enable = "avx512f,avx2,fma,f16c")]
fn widen(src: &[f16], dst: &mut [f32]) {
    let mut sc = src.chunks_exact(16);
    let mut dc = dst.chunks_exact_mut(16);
    for (s, d) in (&mut sc).zip(&mut dc) {
        // SAFETY: `s` holds 16 f16 (32 readable bytes); `loadu` has no alignment
        // requirement.
        let h = unsafe { _mm256_loadu_si256(s.as_ptr().cast()) };
        store(d, _mm512_cvtph_ps(h));
    }
    for (d, s) in dc.into_remainder().iter_mut().zip(sc.remainder()) {
        *d = s.to_f32();
    }
}

/// Lane-wise [`crate::ops::attention_tile::exp`].
#[inline]
#[target_feature(enable = "avx512f,avx2,fma,f16c")]
fn exp(x: __m512) -> __m512 {
    let zero = _mm512_cmp_ps_mask::<_CMP_LT_OQ>(x, _mm512_set1_ps(c::LO));
    let x = _mm512_max_ps(x, _mm512_set1_ps(c::LO));
    let x = _mm512_min_ps(x, _mm512_set1_ps(c::HI));
    let round = _mm512_set1_ps(c::ROUND);
    let t = _mm512_fmadd_ps(x, _mm512_set1_ps(std::f32::consts::LOG2_E), round);
    let n = _mm512_sub_ps(t, round);
    let r = _mm512_fmadd_ps(n, _mm512_set1_ps(-c::LN2_HI), x);
    let r = _mm512_fmadd_ps(n, _mm512_set1_ps(-c::LN2_LO), r);
    let mut p = _mm512_set1_ps(c::P[0]);
    for &k in &c::P[1..] {
        p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(k));
    }
    let y = _mm512_add_ps(
        _mm512_fmadd_ps(p, _mm512_mul_ps(r, r), r),
        _mm512_set1_ps(1.0),
    );
    let k = _mm512_sub_epi32(_mm512_castps_si512(t), _mm512_castps_si512(round));
    let e = _mm512_castsi512_ps(_mm512_add_epi32(
        _mm512_castps_si512(y),
        _mm512_slli_epi32::<23>(k),
    ));
    _mm512_maskz_mov_ps(!zero, e)
}

/// Scores of the tile (see the scalar `scores`): eight keys at a time, one register of
/// sixteen rows each.
#[inline]
#[target_feature(enable = "avx512f,avx2,fma,f16c")]
fn scores(qt: &[f32], k: &[f32], scale: f32, st: &mut [f32]) {
    const J: usize = 8;
    let d = qt.len() / 16;
    let qt = &qt[..d * 16];
    let sv = _mm512_set1_ps(scale);
    let mut kc = k.chunks_exact(J * d);
    let mut sc = st.chunks_exact_mut(J * 16);
    for (kb, sb) in (&mut kc).zip(&mut sc) {
        let mut acc = [_mm512_setzero_ps(); J];
        for (i, qi) in qt.chunks_exact(16).enumerate() {
            let qv = load(qi);
            for (j, a) in acc.iter_mut().enumerate() {
                // SAFETY: `qt` holds `d` rows, so `i < d`; `j < J` and `kb` holds `J` rows of
                // `d` keys, so the index is within `kb`.
                let kji = unsafe { *kb.get_unchecked(j * d + i) };
                *a = _mm512_fmadd_ps(_mm512_set1_ps(kji), qv, *a);
            }
        }
        for (j, a) in acc.into_iter().enumerate() {
            store(&mut sb[j * 16..], _mm512_mul_ps(a, sv));
        }
    }
    for (kj, sj) in kc
        .remainder()
        .chunks_exact(d)
        .zip(sc.into_remainder().chunks_exact_mut(16))
    {
        let mut acc = _mm512_setzero_ps();
        for (&kv, qi) in kj.iter().zip(qt.chunks_exact(16)) {
            acc = _mm512_fmadd_ps(_mm512_set1_ps(kv), load(qi), acc);
        }
        store(sj, _mm512_mul_ps(acc, sv));
    }
}

/// The online-softmax step (see the scalar `softmax`), sixteen rows per register.
#[inline]
#[target_feature(enable = "avx512f,avx2,fma,f16c")]
fn softmax(st: &mut [f32], m: &mut [f32], l: &mut [f32], factor: &mut [f32]) {
    let m_old = load(m);
    let m_new = st
        .chunks_exact(16)
        .fold(m_old, |mx, sj| _mm512_max_ps(load(sj), mx));
    let ninf = _mm512_cmp_ps_mask::<_CMP_EQ_OQ>(m_new, _mm512_set1_ps(f32::NEG_INFINITY));
    let safe = _mm512_mask_mov_ps(m_new, ninf, _mm512_setzero_ps());
    let f = exp(_mm512_sub_ps(m_old, safe));
    let mut sum = _mm512_setzero_ps();
    for sj in st.chunks_exact_mut(16) {
        let p = exp(_mm512_sub_ps(load(sj), safe));
        store(sj, p);
        sum = _mm512_add_ps(sum, p);
    }
    let l_new = _mm512_add_ps(_mm512_mul_ps(load(l), f), sum);
    store(l, l_new);
    store(m, m_new);
    store(factor, f);
}

/// `acc[r] ← acc[r]·factor[r] + Σ_j p[j][r]·v[j]` (see the scalar `accumulate`): four
/// rows × 64 columns in sixteen registers, then 16-column strips, then single columns.
#[inline]
#[target_feature(enable = "avx512f,avx2,fma,f16c")]
fn accumulate(p: &[f32], v: &[f32], factor: &[f32], acc: &mut [f32]) {
    const R: usize = 4;
    let d = acc.len() / 16;
    let tn = p.len() / 16;
    let v = &v[..tn * d];
    let wide = d / 64 * 64;
    let strips = d / 16 * 16;
    for (rb, ab) in acc.chunks_exact_mut(R * d).enumerate() {
        let r0 = rb * R;
        let pr = |j: usize, r: usize| _mm512_set1_ps(p[j * 16 + r0 + r]);
        for c0 in (0..wide).step_by(64) {
            let mut a = [[_mm512_setzero_ps(); 4]; R];
            for (r, ar) in a.iter_mut().enumerate() {
                let f = _mm512_set1_ps(factor[r0 + r]);
                for (x, ax) in ar.iter_mut().enumerate() {
                    *ax = _mm512_mul_ps(load(&ab[r * d + c0 + 16 * x..]), f);
                }
            }
            for (j, vj) in v.chunks_exact(d).enumerate() {
                let vv: [__m512; 4] = core::array::from_fn(|x| load(&vj[c0 + 16 * x..]));
                for (r, ar) in a.iter_mut().enumerate() {
                    let w = pr(j, r);
                    for (ax, &vx) in ar.iter_mut().zip(&vv) {
                        *ax = _mm512_fmadd_ps(w, vx, *ax);
                    }
                }
            }
            for (r, ar) in a.iter().enumerate() {
                for (x, &ax) in ar.iter().enumerate() {
                    store(&mut ab[r * d + c0 + 16 * x..], ax);
                }
            }
        }
        for c0 in (wide..strips).step_by(16) {
            let mut a: [__m512; R] = core::array::from_fn(|r| {
                _mm512_mul_ps(load(&ab[r * d + c0..]), _mm512_set1_ps(factor[r0 + r]))
            });
            for (j, vj) in v.chunks_exact(d).enumerate() {
                let vx = load(&vj[c0..]);
                for (r, ar) in a.iter_mut().enumerate() {
                    *ar = _mm512_fmadd_ps(pr(j, r), vx, *ar);
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

/// AVX-512 version of [`crate::ops::attend_tile`] (arguments already checked).
///
/// # Safety
/// The CPU must support AVX-512F, AVX2, FMA and F16C.
#[target_feature(enable = "avx512f,avx2,fma,f16c")]
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

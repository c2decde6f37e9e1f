//! One body of the tiled attention's inner loops ([`crate::ops::attend_tile`]) for every
//! SIMD tier, as a macro that a tier module instantiates with its vector type, its target
//! features, two blocking factors and a handful of primitive operations on vectors; each
//! tier gets a fully inlined copy with its own `#[target_feature]`.
//!
//! The body evaluates every element with the operations of the scalar twin
//! ([`crate::ops::attention_tile`]) in the same order — fused multiply-adds, the same
//! polynomial `exp`, `a > b ? a : b` maxima — so results are bit-identical on every tier.

/// The tiled attention of one tier: `attend_tile` (this tier's version of
/// [`crate::ops::attend_tile`]) and the inner loops it runs through
/// [`crate::ops::attention_tile::tiled_attend`].
///
/// Arguments:
/// - `features`: the `#[target_feature]` string of the tier;
/// - `vector`: its f32 vector type (`V` in the module; the lane count is its size over
///   four bytes and must divide [`TILE_ROWS`](crate::ops::attention_tile::TILE_ROWS));
/// - `score_keys`: keys per step of `scores` (each holds a row tile of accumulators);
/// - `acc_rows`: rows per step of `accumulate` (each holds four vectors of columns);
/// - `primitives`: the tier's operations, each given the tier's target features:
///   `load(&[f32]) -> V` and `store(&mut [f32], V)` (the first lanes of a slice, which
///   must be long enough), `load_f16(&[f16]) -> V` (widened to f32), `splat(f32) -> V`,
///   `add`, `sub`, `mul`, `fmadd(a, b, c)` (`a·b + c` rounded once), `max(a, b)`
///   (`a > b ? a : b`), `min(a, b)` (`a < b ? a : b`), `lt(a, b)` and `eq(a, b)`
///   (lane masks of ordered comparisons, any mask type), `zero_where(mask, v)` (0 where
///   the mask is set, else `v`) and `pow2_mul(y, t, round)` (`y` with the integer
///   difference of `t`'s and `round`'s bits added to its exponent field, lane-wise).
macro_rules! attention_tile_kernel {
    (
        features: $features:literal,
        vector: $v:ty,
        score_keys: $score_keys:literal,
        acc_rows: $acc_rows:literal,
        primitives: {
            $(
                $(#[$meta:meta])*
                fn $name:ident($($arg:ident: $arg_ty:ty),* $(,)?) $(-> $ret:ty)? $body:block
            )*
        } $(,)?
    ) => {
        /// The f32 vector of this tier.
        type V = $v;

        $(
            $(#[$meta])*
            #[inline]
            #[target_feature(enable = $features)]
            fn $name($($arg: $arg_ty),*) $(-> $ret)? $body
        )*

        /// The tier's tiled attention, from [`crate::cpu::attention_tile_body`].
        mod body {
            use super::{
                add, eq, fmadd, load, load_f16, lt, max, min, mul, pow2_mul, splat, store, sub,
                zero_where, V,
            };
            use $crate::ops::attention_tile::{exp_consts as c, tiled_attend, TileOps, TILE_ROWS};
            use half::f16;
            use std::ops::Range;

            /// f32 lanes per vector.
            const L: usize = size_of::<V>() / size_of::<f32>();
            /// Vectors per row tile.
            const H: usize = TILE_ROWS / L;
            /// Keys per step of `scores`.
            const J: usize = $score_keys;
            /// Rows per step of `accumulate`.
            const R: usize = $acc_rows;
            /// Vectors of columns per row in the wide steps of `accumulate`.
            const C: usize = 4;

            const _: () = assert!(TILE_ROWS == 16 && H * L == TILE_ROWS);
            const _: () = assert!(TILE_ROWS % R == 0);

            /// `src` widened to f32 into `dst` (the shorter length).
            #[inline]
            #[target_feature(enable = $features)]
            fn widen(src: &[f16], dst: &mut [f32]) {
                let mut sc = src.chunks_exact(L);
                let mut dc = dst.chunks_exact_mut(L);
                for (s, d) in (&mut sc).zip(&mut dc) {
                    store(d, load_f16(s));
                }
                for (d, s) in dc.into_remainder().iter_mut().zip(sc.remainder()) {
                    *d = s.to_f32();
                }
            }

            /// Lane-wise [`crate::ops::attention_tile::exp`].
            #[inline]
            #[target_feature(enable = $features)]
            fn exp(x: V) -> V {
                let zero = lt(x, splat(c::LO));
                let x = max(x, splat(c::LO));
                let x = min(x, splat(c::HI));
                let round = splat(c::ROUND);
                let t = fmadd(x, splat(std::f32::consts::LOG2_E), round);
                let n = sub(t, round);
                let r = fmadd(n, splat(-c::LN2_HI), x);
                let r = fmadd(n, splat(-c::LN2_LO), r);
                let mut p = splat(c::P[0]);
                for &k in &c::P[1..] {
                    p = fmadd(p, r, splat(k));
                }
                let y = add(fmadd(p, mul(r, r), r), splat(1.0));
                zero_where(zero, pow2_mul(y, t, round))
            }

            /// Scores of the tile (see the scalar `scores`): `J` keys at a time, each a
            /// row tile of `H` vectors.
            #[inline]
            #[target_feature(enable = $features)]
            fn scores(qt: &[f32], k: &[f32], scale: f32, st: &mut [f32]) {
                let d = qt.len() / TILE_ROWS;
                let qt = &qt[..d * TILE_ROWS];
                let sv = splat(scale);
                let mut kc = k.chunks_exact(J * d);
                let mut sc = st.chunks_exact_mut(J * TILE_ROWS);
                for (kb, sb) in (&mut kc).zip(&mut sc) {
                    let mut acc = [[splat(0.0); H]; J];
                    for (i, qi) in qt.chunks_exact(TILE_ROWS).enumerate() {
                        let qv: [V; H] = core::array::from_fn(|x| load(&qi[L * x..]));
                        for (j, aj) in acc.iter_mut().enumerate() {
                            // SAFETY: `qt` holds `d` rows, so `i < d`; `j < J` and `kb`
                            // holds `J` rows of `d` keys, so the index is within `kb`.
                            let kji = unsafe { *kb.get_unchecked(j * d + i) };
                            let kv = splat(kji);
                            for (a, &q) in aj.iter_mut().zip(&qv) {
                                *a = fmadd(kv, q, *a);
                            }
                        }
                    }
                    for (j, aj) in acc.iter().enumerate() {
                        for (x, &a) in aj.iter().enumerate() {
                            store(&mut sb[j * TILE_ROWS + L * x..], mul(a, sv));
                        }
                    }
                }
                for (kj, sj) in kc
                    .remainder()
                    .chunks_exact(d)
                    .zip(sc.into_remainder().chunks_exact_mut(TILE_ROWS))
                {
                    let mut acc = [splat(0.0); H];
                    for (&kv, qi) in kj.iter().zip(qt.chunks_exact(TILE_ROWS)) {
                        let kv = splat(kv);
                        for (x, a) in acc.iter_mut().enumerate() {
                            *a = fmadd(kv, load(&qi[L * x..]), *a);
                        }
                    }
                    for (x, &a) in acc.iter().enumerate() {
                        store(&mut sj[L * x..], mul(a, sv));
                    }
                }
            }

            /// The online-softmax step (see the scalar `softmax`), `L` rows per vector.
            #[inline]
            #[target_feature(enable = $features)]
            fn softmax(st: &mut [f32], m: &mut [f32], l: &mut [f32], factor: &mut [f32]) {
                for h in (0..TILE_ROWS).step_by(L) {
                    let m_old = load(&m[h..]);
                    let m_new = st
                        .chunks_exact(TILE_ROWS)
                        .fold(m_old, |mx, sj| max(load(&sj[h..]), mx));
                    let safe = zero_where(eq(m_new, splat(f32::NEG_INFINITY)), m_new);
                    let f = exp(sub(m_old, safe));
                    let mut sum = splat(0.0);
                    for sj in st.chunks_exact_mut(TILE_ROWS) {
                        let p = exp(sub(load(&sj[h..]), safe));
                        store(&mut sj[h..], p);
                        sum = add(sum, p);
                    }
                    let l_new = add(mul(load(&l[h..]), f), sum);
                    store(&mut l[h..], l_new);
                    store(&mut m[h..], m_new);
                    store(&mut factor[h..], f);
                }
            }

            /// `acc[r] ← acc[r]·factor[r] + Σ_j p[j][r]·v[j]` (see the scalar
            /// `accumulate`): `R` rows × `C` vectors of columns per step, then
            /// one-vector strips, then single columns.
            #[inline]
            #[target_feature(enable = $features)]
            fn accumulate(p: &[f32], v: &[f32], factor: &[f32], acc: &mut [f32]) {
                let d = acc.len() / TILE_ROWS;
                let tn = p.len() / TILE_ROWS;
                let v = &v[..tn * d];
                let wide = d / (C * L) * (C * L);
                let strips = d / L * L;
                for (rb, ab) in acc.chunks_exact_mut(R * d).enumerate() {
                    let r0 = rb * R;
                    let pr = |j: usize, r: usize| splat(p[j * TILE_ROWS + r0 + r]);
                    for c0 in (0..wide).step_by(C * L) {
                        let mut a = [[splat(0.0); C]; R];
                        for (r, ar) in a.iter_mut().enumerate() {
                            let f = splat(factor[r0 + r]);
                            for (x, ax) in ar.iter_mut().enumerate() {
                                *ax = mul(load(&ab[r * d + c0 + L * x..]), f);
                            }
                        }
                        for (j, vj) in v.chunks_exact(d).enumerate() {
                            let vv: [V; C] = core::array::from_fn(|x| load(&vj[c0 + L * x..]));
                            for (r, ar) in a.iter_mut().enumerate() {
                                let w = pr(j, r);
                                for (ax, &vx) in ar.iter_mut().zip(&vv) {
                                    *ax = fmadd(w, vx, *ax);
                                }
                            }
                        }
                        for (r, ar) in a.iter().enumerate() {
                            for (x, &ax) in ar.iter().enumerate() {
                                store(&mut ab[r * d + c0 + L * x..], ax);
                            }
                        }
                    }
                    for c0 in (wide..strips).step_by(L) {
                        let mut a: [V; R] = core::array::from_fn(|r| {
                            mul(load(&ab[r * d + c0..]), splat(factor[r0 + r]))
                        });
                        for (j, vj) in v.chunks_exact(d).enumerate() {
                            let vx = load(&vj[c0..]);
                            for (r, ar) in a.iter_mut().enumerate() {
                                *ar = fmadd(pr(j, r), vx, *ar);
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
                                x = p[j * TILE_ROWS + r0 + r].mul_add(vj[col], x);
                            }
                            *a = x;
                        }
                    }
                }
            }

            /// This tier's version of [`crate::ops::attend_tile`] (arguments already
            /// checked).
            ///
            /// # Safety
            #[doc = concat!("The CPU must support the target features `", $features, "`.")]
            #[target_feature(enable = $features)]
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
                        scores: |qt: &[f32], k: &[f32], scale, st: &mut [f32]| {
                            scores(qt, k, scale, st)
                        },
                        softmax: |st: &mut [f32], m: &mut [f32], l: &mut [f32], f: &mut [f32]| {
                            softmax(st, m, l, f)
                        },
                        accumulate: |p: &[f32], v: &[f32], f: &[f32], a: &mut [f32]| {
                            accumulate(p, v, f, a)
                        },
                    },
                );
            }
        }

        pub use self::body::attend_tile;
    };
}

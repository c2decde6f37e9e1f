//! Bodies of the tile kernels (see [`crate::cpu::tile`]): [`R`](crate::cpu::tile::R)
//! unpacked weight rows × [`T`](crate::cpu::tile::T) prepared activation rows. Each
//! weight block is converted to i8 once per tile and multiplied by every activation row;
//! the four rows' integer sums are reduced together (row `r` in lane `r`), and the f32
//! work per pair is the single-row kernel's, block by block, in lanes: so a tile's output
//! has the same bits as the tier's `vec_dot` of the pair.

/// The tile kernels of one tier, as a module `tile` of the tier's module (whose `dot`
/// they call).
macro_rules! tile_kernels {
    ($features:literal) => {
        /// This tier's tile kernels (see [`crate::cpu::tile`]).
        pub(crate) mod tile {
            // Block, row and activation indices address several arrays at once.
            #![allow(clippy::needless_range_loop)]

            use super::dot;
            use core::arch::aarch64::*;
            use $crate::cpu::aarch64::{halves, load_i8, load_u8};
            use $crate::cpu::tile::{Acts, Panel, R, T};

            const _: () = assert!(R == 4);

            /// Loads 4 f32.
            #[inline]
            #[target_feature(enable = $features)]
            fn load_f32x4(v: &[f32; 4]) -> float32x4_t {
                // SAFETY: `v` is 4 readable f32.
                unsafe { vld1q_f32(v.as_ptr()) }
            }

            /// Loads 4 i32.
            #[inline]
            #[target_feature(enable = $features)]
            fn load_i32x4(v: &[i32; 4]) -> int32x4_t {
                // SAFETY: `v` is 4 readable i32.
                unsafe { vld1q_s32(v.as_ptr()) }
            }

            /// Lane `r` = the total of `v[r]`'s lanes.
            #[inline]
            #[target_feature(enable = $features)]
            fn reduce4(v: [int32x4_t; R]) -> int32x4_t {
                vpaddq_s32(vpaddq_s32(v[0], v[1]), vpaddq_s32(v[2], v[3]))
            }

            /// 32 unsigned quants less `OFF` (wrapping, so Q8_0's bias of 128 undoes its
            /// xor), as two i8 vectors.
            #[inline]
            #[target_feature(enable = $features)]
            fn signed<const OFF: u8>(q: &[u8; 32]) -> (int8x16_t, int8x16_t) {
                let (lo, hi) = halves(q);
                let off = vdupq_n_u8(OFF);
                (
                    vreinterpretq_s8_u8(vsubq_u8(load_u8(lo), off)),
                    vreinterpretq_s8_u8(vsubq_u8(load_u8(hi), off)),
                )
            }

            /// Stores the accumulators: `out[i][r]` = lane `r` of `acc[i]`.
            #[inline]
            #[target_feature(enable = $features)]
            fn store(acc: [float32x4_t; T], out: &mut [[f32; R]; T]) {
                for (o, a) in out.iter_mut().zip(acc) {
                    // SAFETY: `o` is 4 writable f32.
                    unsafe { vst1q_f32(o.as_mut_ptr(), a) };
                }
            }

            /// 32-element blocks: `Σ_b (d_w·d_a)·Σ (q - OFF)·y [+ m_w·s_a]`.
            #[inline]
            #[target_feature(enable = $features)]
            fn legacy<const OFF: u8, const MIN: bool>(
                p: &Panel<'_>,
                a: &Acts<'_>,
                ts: [usize; T],
                out: &mut [[f32; R]; T],
            ) {
                let nb = a.nb;
                let len = nb * 32;
                let aq: [&[[i8; 32]]; T] =
                    std::array::from_fn(|i| a.q[ts[i] * len..(ts[i] + 1) * len].as_chunks().0);
                let wq: [&[[u8; 32]]; R] =
                    std::array::from_fn(|r| p.q[r * len..(r + 1) * len].as_chunks().0);
                let mut acc = [vdupq_n_f32(0.0); T];
                for b in 0..nb {
                    let w: [(int8x16_t, int8x16_t); R] =
                        std::array::from_fn(|r| signed::<OFF>(&wq[r][b]));
                    let dw = load_f32x4(&std::array::from_fn(|r| p.d[r * nb + b]));
                    let mw = if MIN {
                        load_f32x4(&std::array::from_fn(|r| p.m[b * R + r]))
                    } else {
                        vdupq_n_f32(0.0)
                    };
                    for i in 0..T {
                        let (y0, y1) = halves(&aq[i][b]);
                        let (y0, y1) = (load_i8(y0), load_i8(y1));
                        let s: [int32x4_t; R] = std::array::from_fn(|r| {
                            dot(dot(vdupq_n_s32(0), w[r].0, y0), w[r].1, y1)
                        });
                        let s = vcvtq_f32_s32(reduce4(s));
                        let mut t = vmulq_f32(vmulq_n_f32(dw, a.d[ts[i] * nb + b]), s);
                        if MIN {
                            t = vaddq_f32(t, vmulq_n_f32(mw, a.s[ts[i] * nb + b]));
                        }
                        acc[i] = vaddq_f32(acc[i], t);
                    }
                }
                store(acc, out);
            }

            /// K-quants: per 32-element group `dot` of the i8 quants, times the group's
            /// scale (per 16 elements when `SC16`), summed exactly per super-block; then
            /// `(d_w·d_a)·sumi [- (dmin_w·d_a)·Σ m·bsum]`.
            #[inline]
            #[target_feature(enable = $features)]
            fn k_quant<const OFF: u8, const MIN: bool, const SC16: bool>(
                p: &Panel<'_>,
                a: &Acts<'_>,
                ts: [usize; T],
                out: &mut [[f32; R]; T],
            ) {
                let nb = a.nb;
                let len = nb * 256;
                let aq: [&[[i8; 32]]; T] =
                    std::array::from_fn(|i| a.q[ts[i] * len..(ts[i] + 1) * len].as_chunks().0);
                let wq: [&[[u8; 32]]; R] =
                    std::array::from_fn(|r| p.q[r * len..(r + 1) * len].as_chunks().0);
                let wsc: [&[[i16; 16]]; R] =
                    std::array::from_fn(|r| p.sc[r * nb * 128..(r + 1) * nb * 128].as_chunks().0);
                let zero = vdupq_n_s32(0);
                let mut acc = [vdupq_n_f32(0.0); T];
                for b in 0..nb {
                    let mut sumi = [[zero; R]; T];
                    for g in 0..8 {
                        let c = 8 * b + g;
                        let w: [(int8x16_t, int8x16_t); R] =
                            std::array::from_fn(|r| signed::<OFF>(&wq[r][c]));
                        let sc: [(i32, i32); R] = std::array::from_fn(|r| {
                            (i32::from(wsc[r][c][0]), i32::from(wsc[r][c][8]))
                        });
                        for i in 0..T {
                            let (y0, y1) = halves(&aq[i][c]);
                            let (y0, y1) = (load_i8(y0), load_i8(y1));
                            for r in 0..R {
                                let s = &mut sumi[i][r];
                                if SC16 {
                                    *s = vmlaq_n_s32(*s, dot(zero, w[r].0, y0), sc[r].0);
                                    *s = vmlaq_n_s32(*s, dot(zero, w[r].1, y1), sc[r].1);
                                } else {
                                    let d = dot(dot(zero, w[r].0, y0), w[r].1, y1);
                                    *s = vmlaq_n_s32(*s, d, sc[r].0);
                                }
                            }
                        }
                    }
                    let dw = load_f32x4(&std::array::from_fn(|r| p.d[r * nb + b]));
                    let dmin = load_f32x4(&std::array::from_fn(|r| {
                        if MIN {
                            p.dmin[r * nb + b]
                        } else {
                            0.0
                        }
                    }));
                    for i in 0..T {
                        let da = a.d[ts[i] * nb + b];
                        let si = vcvtq_f32_s32(reduce4(sumi[i]));
                        let mut t = vmulq_f32(vmulq_n_f32(dw, da), si);
                        if MIN {
                            let bs = &a.bsum[(ts[i] * nb + b) * 8..(ts[i] * nb + b + 1) * 8];
                            let summ: [i32; R] = std::array::from_fn(|r| {
                                let m = &p.mins[(r * nb + b) * 8..(r * nb + b + 1) * 8];
                                m.iter()
                                    .zip(bs)
                                    .map(|(&m, &s)| i32::from(m) * i32::from(s))
                                    .sum()
                            });
                            let summ = vcvtq_f32_s32(load_i32x4(&summ));
                            t = vsubq_f32(t, vmulq_f32(vmulq_n_f32(dmin, da), summ));
                        }
                        acc[i] = vaddq_f32(acc[i], t);
                    }
                }
                store(acc, out);
            }

            tile_fn!(
                $features,
                "Q4_0 tile, as the tier's `vec_dot_q4_0_q8_0` per pair.",
                tile_q4_0 = legacy::<8, false>
            );
            tile_fn!(
                $features,
                "Q4_1 tile, as the tier's `vec_dot_q4_1_q8_1` per pair.",
                tile_q4_1 = legacy::<0, true>
            );
            tile_fn!(
                $features,
                "Q5_0 tile, as the tier's `vec_dot_q5_0_q8_0` per pair.",
                tile_q5_0 = legacy::<16, false>
            );
            tile_fn!(
                $features,
                "Q5_1 tile, as the tier's `vec_dot_q5_1_q8_1` per pair.",
                tile_q5_1 = legacy::<0, true>
            );
            tile_fn!(
                $features,
                "Q8_0 tile, as the tier's `vec_dot_q8_0_q8_0` per pair.",
                tile_q8_0 = legacy::<128, false>
            );
            tile_fn!(
                $features,
                "Q4_K tile, as the tier's `vec_dot_q4_k_q8_k` per pair.",
                tile_q4_k = k_quant::<0, true, false>
            );
            tile_fn!(
                $features,
                "Q5_K tile, as the tier's `vec_dot_q5_k_q8_k` per pair.",
                tile_q5_k = k_quant::<0, true, false>
            );
            tile_fn!(
                $features,
                "Q6_K tile, as the tier's `vec_dot_q6_k_q8_k` per pair.",
                tile_q6_k = k_quant::<32, false, true>
            );
        }
    };
}

/// One exported tile kernel of a tier: `$core` behind the [`crate::cpu::tile::TileFn`]
/// signature.
macro_rules! tile_fn {
    ($features:literal, $doc:literal, $name:ident = $core:expr) => {
        #[doc = $doc]
        ///
        /// # Safety
        /// The CPU must have this tier's target features; see
        /// [`crate::cpu::tile::TileFn`] for the operands.
        #[target_feature(enable = $features)]
        pub unsafe fn $name(p: &Panel<'_>, a: &Acts<'_>, ts: [usize; T], out: &mut [[f32; R]; T]) {
            $core(p, a, ts, out)
        }
    };
}

//! Bodies of the 256-element super-block kernels: Q4_K, Q5_K, Q6_K.

/// Q4_K · Q8_K.
macro_rules! q4_k_kernel {
    ($features:literal) => {
        /// NEON version of [`crate::cpu::scalar::vec_dot_q4_k_q8_k`].
        ///
        /// # Safety
        /// The CPU must have this tier's target features.
        #[target_feature(enable = $features)]
        pub unsafe fn vec_dot_q4_k_q8_k(
            w: &[edge_quant::k_quants::BlockQ4K],
            a: &[edge_quant::k_quants::BlockQ8K],
        ) -> f32 {
            use $crate::cpu::aarch64::{f16, load_i8, load_u8, q8k16};
            let m4 = vdupq_n_u8(0x0f);
            let mut sum = 0.0f32;
            for (bw, ba) in w.iter().zip(a) {
                let qs: &[[u8; 16]; 8] = bytemuck::cast_ref(&bw.qs);
                let (mut sumi, mut summ) = (0i32, 0i32);
                for j in 0..8 {
                    let (sc, m) = bw.scale_min(j);
                    let (a0, a1) = (load_u8(&qs[j / 2 * 2]), load_u8(&qs[j / 2 * 2 + 1]));
                    let (q0, q1) = if j % 2 == 0 {
                        (vandq_u8(a0, m4), vandq_u8(a1, m4))
                    } else {
                        (vshrq_n_u8::<4>(a0), vshrq_n_u8::<4>(a1))
                    };
                    let y0 = load_i8(q8k16(&ba.qs, 32 * j));
                    let y1 = load_i8(q8k16(&ba.qs, 32 * j + 16));
                    let s = dot(vdupq_n_s32(0), vreinterpretq_s8_u8(q0), y0);
                    let s = dot(s, vreinterpretq_s8_u8(q1), y1);
                    sumi += i32::from(sc) * vaddvq_s32(s);
                    summ +=
                        i32::from(m) * (i32::from(ba.bsum(2 * j)) + i32::from(ba.bsum(2 * j + 1)));
                }
                let da = ba.d();
                sum += (f16(bw.d) * da) * sumi as f32 - (f16(bw.dmin) * da) * summ as f32;
            }
            sum
        }
    };
}

/// Q6_K · Q8_K.
macro_rules! q6_k_kernel {
    ($features:literal) => {
        /// NEON version of [`crate::cpu::scalar::vec_dot_q6_k_q8_k`].
        ///
        /// # Safety
        /// The CPU must have this tier's target features.
        #[target_feature(enable = $features)]
        pub unsafe fn vec_dot_q6_k_q8_k(
            w: &[edge_quant::k_quants::BlockQ6K],
            a: &[edge_quant::k_quants::BlockQ8K],
        ) -> f32 {
            use $crate::cpu::aarch64::{f16, load_i8, load_u8, q8k16};
            let m4 = vdupq_n_u8(0x0f);
            let m2 = vdupq_n_u8(3);
            let k32 = vdupq_n_s8(32);
            let mut sum = 0.0f32;
            for (bw, ba) in w.iter().zip(a) {
                let ql: &[[u8; 16]; 8] = bytemuck::cast_ref(&bw.ql);
                let qh: &[[u8; 16]; 4] = bytemuck::cast_ref(&bw.qh);
                let mut sumi = 0i32;
                // Sub-block s = 8h + 2k + half holds elements 128h + 32k + 16·half + (0..16).
                for s in 0..16 {
                    let (h, k, half) = (s / 8, (s / 2) % 4, s % 2);
                    let low = load_u8(&ql[4 * h + 2 * (k % 2) + half]);
                    let low = vandq_u8(vshlq_u8(low, vdupq_n_s8(-4 * (k / 2) as i8)), m4);
                    let high = load_u8(&qh[2 * h + half]);
                    let high = vandq_u8(vshlq_u8(high, vdupq_n_s8(-2 * k as i8)), m2);
                    let q = vorrq_u8(low, vshlq_n_u8::<4>(high));
                    let q = vsubq_s8(vreinterpretq_s8_u8(q), k32);
                    let y = load_i8(q8k16(&ba.qs, 16 * s));
                    sumi += i32::from(bw.scale(s)) * vaddvq_s32(dot(vdupq_n_s32(0), q, y));
                }
                sum += (f16(bw.d) * ba.d()) * sumi as f32;
            }
            sum
        }
    };
}

/// Q5_K · Q8_K.
macro_rules! q5_k_kernel {
    ($features:literal) => {
        /// NEON version of [`crate::cpu::scalar::vec_dot_q5_k_q8_k`].
        ///
        /// # Safety
        /// The CPU must have this tier's target features.
        #[target_feature(enable = $features)]
        pub unsafe fn vec_dot_q5_k_q8_k(
            w: &[edge_quant::k_quants::BlockQ5K],
            a: &[edge_quant::k_quants::BlockQ8K],
        ) -> f32 {
            use $crate::cpu::aarch64::{f16, halves, load_i8, load_u8, q8k16};
            let m4 = vdupq_n_u8(0x0f);
            let sixteen = vdupq_n_u8(0x10);
            let mut sum = 0.0f32;
            for (bw, ba) in w.iter().zip(a) {
                let qs: &[[u8; 16]; 8] = bytemuck::cast_ref(&bw.qs);
                let (qh0, qh1) = halves(&bw.qh);
                let (qh0, qh1) = (load_u8(qh0), load_u8(qh1));
                let (mut sumi, mut summ) = (0i32, 0i32);
                for j in 0..8 {
                    let (sc, m) = bw.scale_min(j);
                    let (a0, a1) = (load_u8(&qs[j / 2 * 2]), load_u8(&qs[j / 2 * 2 + 1]));
                    let (q0, q1) = if j % 2 == 0 {
                        (vandq_u8(a0, m4), vandq_u8(a1, m4))
                    } else {
                        (vshrq_n_u8::<4>(a0), vshrq_n_u8::<4>(a1))
                    };
                    // Bit j of each qh byte becomes the quant's fifth bit (0x10).
                    let bit = vdupq_n_u8(1 << j);
                    let q0 = vorrq_u8(q0, vandq_u8(vtstq_u8(qh0, bit), sixteen));
                    let q1 = vorrq_u8(q1, vandq_u8(vtstq_u8(qh1, bit), sixteen));
                    let y0 = load_i8(q8k16(&ba.qs, 32 * j));
                    let y1 = load_i8(q8k16(&ba.qs, 32 * j + 16));
                    let s = dot(vdupq_n_s32(0), vreinterpretq_s8_u8(q0), y0);
                    let s = dot(s, vreinterpretq_s8_u8(q1), y1);
                    sumi += i32::from(sc) * vaddvq_s32(s);
                    summ +=
                        i32::from(m) * (i32::from(ba.bsum(2 * j)) + i32::from(ba.bsum(2 * j + 1)));
                }
                let da = ba.d();
                sum += (f16(bw.d) * da) * sumi as f32 - (f16(bw.dmin) * da) * summ as f32;
            }
            sum
        }
    };
}

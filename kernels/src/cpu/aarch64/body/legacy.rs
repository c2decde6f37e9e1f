//! Bodies of the 32-element block kernels: Q4_0, Q4_1, Q5_0, Q5_1, Q8_0.

/// Q4_0 · Q8_0.
macro_rules! q4_0_kernel {
    ($features:literal) => {
        /// NEON version of [`crate::cpu::scalar::vec_dot_q4_0_q8_0`].
        ///
        /// # Safety
        /// The CPU must have this tier's target features.
        #[target_feature(enable = $features)]
        pub unsafe fn vec_dot_q4_0_q8_0(
            w: &[edge_quant::legacy::BlockQ4_0],
            a: &[edge_quant::legacy::BlockQ8_0],
        ) -> f32 {
            use $crate::cpu::aarch64::{f16, halves, load_i8, load_u8};
            let m4 = vdupq_n_u8(0x0f);
            let eight = vdupq_n_s8(8);
            let mut sum = 0.0f32;
            for (bw, ba) in w.iter().zip(a) {
                let q = load_u8(&bw.qs);
                let lo = vsubq_s8(vreinterpretq_s8_u8(vandq_u8(q, m4)), eight);
                let hi = vsubq_s8(vreinterpretq_s8_u8(vshrq_n_u8::<4>(q)), eight);
                let (y0, y1) = halves(&ba.qs);
                let s = dot(dot(vdupq_n_s32(0), lo, load_i8(y0)), hi, load_i8(y1));
                sum += (f16(bw.d) * f16(ba.d)) * vaddvq_s32(s) as f32;
            }
            sum
        }
    };
}

/// Q4_1 · Q8_1.
macro_rules! q4_1_kernel {
    ($features:literal) => {
        /// NEON version of [`crate::cpu::scalar::vec_dot_q4_1_q8_1`].
        ///
        /// # Safety
        /// The CPU must have this tier's target features.
        #[target_feature(enable = $features)]
        pub unsafe fn vec_dot_q4_1_q8_1(
            w: &[edge_quant::legacy::BlockQ4_1],
            a: &[edge_quant::legacy::BlockQ8_1],
        ) -> f32 {
            use $crate::cpu::aarch64::{f16, halves, load_i8, load_u8};
            let m4 = vdupq_n_u8(0x0f);
            let mut sum = 0.0f32;
            for (bw, ba) in w.iter().zip(a) {
                let q = load_u8(&bw.qs);
                let lo = vreinterpretq_s8_u8(vandq_u8(q, m4));
                let hi = vreinterpretq_s8_u8(vshrq_n_u8::<4>(q));
                let (y0, y1) = halves(&ba.qs);
                let s = dot(dot(vdupq_n_s32(0), lo, load_i8(y0)), hi, load_i8(y1));
                sum += (f16(bw.d) * f16(ba.d)) * vaddvq_s32(s) as f32 + f16(bw.m) * f16(ba.s);
            }
            sum
        }
    };
}

/// Q5_0 · Q8_0.
macro_rules! q5_0_kernel {
    ($features:literal) => {
        /// NEON version of [`crate::cpu::scalar::vec_dot_q5_0_q8_0`].
        ///
        /// # Safety
        /// The CPU must have this tier's target features.
        #[target_feature(enable = $features)]
        pub unsafe fn vec_dot_q5_0_q8_0(
            w: &[edge_quant::legacy::BlockQ5_0],
            a: &[edge_quant::legacy::BlockQ8_0],
        ) -> f32 {
            use $crate::cpu::aarch64::{f16, fifth_bits, halves, load_i8, load_u8};
            let m4 = vdupq_n_u8(0x0f);
            let sixteen = vdupq_n_s8(16);
            let mut sum = 0.0f32;
            for (bw, ba) in w.iter().zip(a) {
                let q = load_u8(&bw.qs);
                let (h0, h1) = fifth_bits(bw.qh);
                let lo = vorrq_u8(vandq_u8(q, m4), h0);
                let hi = vorrq_u8(vshrq_n_u8::<4>(q), h1);
                let lo = vsubq_s8(vreinterpretq_s8_u8(lo), sixteen);
                let hi = vsubq_s8(vreinterpretq_s8_u8(hi), sixteen);
                let (y0, y1) = halves(&ba.qs);
                let s = dot(dot(vdupq_n_s32(0), lo, load_i8(y0)), hi, load_i8(y1));
                sum += (f16(bw.d) * f16(ba.d)) * vaddvq_s32(s) as f32;
            }
            sum
        }
    };
}

/// Q8_0 · Q8_0.
macro_rules! q8_0_kernel {
    ($features:literal) => {
        /// NEON version of [`crate::cpu::scalar::vec_dot_q8_0_q8_0`].
        ///
        /// # Safety
        /// The CPU must have this tier's target features.
        #[target_feature(enable = $features)]
        pub unsafe fn vec_dot_q8_0_q8_0(
            w: &[edge_quant::legacy::BlockQ8_0],
            a: &[edge_quant::legacy::BlockQ8_0],
        ) -> f32 {
            use $crate::cpu::aarch64::{f16, halves, load_i8};
            let mut sum = 0.0f32;
            for (bw, ba) in w.iter().zip(a) {
                let (x0, x1) = halves(&bw.qs);
                let (y0, y1) = halves(&ba.qs);
                let s = dot(
                    dot(vdupq_n_s32(0), load_i8(x0), load_i8(y0)),
                    load_i8(x1),
                    load_i8(y1),
                );
                sum += (f16(bw.d) * f16(ba.d)) * vaddvq_s32(s) as f32;
            }
            sum
        }
    };
}

/// Q5_1 · Q8_1.
macro_rules! q5_1_kernel {
    ($features:literal) => {
        /// NEON version of [`crate::cpu::scalar::vec_dot_q5_1_q8_1`].
        ///
        /// # Safety
        /// The CPU must have this tier's target features.
        #[target_feature(enable = $features)]
        pub unsafe fn vec_dot_q5_1_q8_1(
            w: &[edge_quant::legacy::BlockQ5_1],
            a: &[edge_quant::legacy::BlockQ8_1],
        ) -> f32 {
            use $crate::cpu::aarch64::{f16, fifth_bits, halves, load_i8, load_u8};
            let m4 = vdupq_n_u8(0x0f);
            let mut sum = 0.0f32;
            for (bw, ba) in w.iter().zip(a) {
                let q = load_u8(&bw.qs);
                let (h0, h1) = fifth_bits(bw.qh);
                let lo = vreinterpretq_s8_u8(vorrq_u8(vandq_u8(q, m4), h0));
                let hi = vreinterpretq_s8_u8(vorrq_u8(vshrq_n_u8::<4>(q), h1));
                let (y0, y1) = halves(&ba.qs);
                let s = dot(dot(vdupq_n_s32(0), lo, load_i8(y0)), hi, load_i8(y1));
                sum += (f16(bw.d) * f16(ba.d)) * vaddvq_s32(s) as f32 + f16(bw.m) * f16(ba.s);
            }
            sum
        }
    };
}

//! AVX2 Q8_K activation quantizer, bit-exact with edge-quant's reference
//! ([`crate::cpu::scalar::quantize_row_q8_k`]).

use core::arch::x86_64::*;
use edge_quant::k_quants::BlockQ8K;

/// Loads 8 f32.
#[inline]
#[target_feature(enable = "avx2")]
fn load8(x: &[f32; 8]) -> __m256 {
    // SAFETY: `x` is 8 readable f32; `loadu` has no alignment requirement.
    unsafe { _mm256_loadu_ps(x.as_ptr()) }
}

/// Quantizes `x` (`out.len() * 256` elements) to Q8_K. A block is quantized with the
/// reference's operations in lanes: `amax`, the first element of that magnitude as
/// `max`, `iscale = -127 / max`, each quant `min(nearest_int(iscale·v), 127)` with the
/// same magic-number rounding, `d = 1 / iscale`. Blocks holding a NaN or an infinity, or
/// whose `iscale` overflows, go to the reference itself: their quants depend on NaN
/// payloads.
///
/// # Safety
/// The CPU must support AVX2.
#[target_feature(enable = "avx2")]
pub unsafe fn quantize_row_q8_k(x: &[f32], out: &mut [BlockQ8K]) {
    let sign = _mm256_set1_ps(-0.0);
    let inf = _mm256_set1_ps(f32::INFINITY);
    let magic = _mm256_set1_ps(12_582_912.0);
    let mant = _mm256_set1_epi32(0x007f_ffff);
    let half = _mm256_set1_epi32(0x0040_0000);
    let k127 = _mm256_set1_epi32(127);
    let ones8 = _mm256_set1_epi8(1);
    let ones16 = _mm256_set1_epi16(1);
    let order = _mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7);
    for (xb, ob) in x.chunks_exact(256).zip(out.iter_mut()) {
        let xb: &[f32; 256] = xb
            .try_into()
            .unwrap_or_else(|_| unreachable!("chunks_exact(256)"));
        let xs: &[[f32; 8]; 32] = bytemuck::cast_ref(xb);
        // NaN or infinite lanes: |v| is unordered with, or equal to, infinity.
        let mut bad = _mm256_setzero_ps();
        let mut amax = _mm256_setzero_ps();
        for v in xs {
            let a = _mm256_andnot_ps(sign, load8(v));
            bad = _mm256_or_ps(bad, _mm256_cmp_ps::<_CMP_NLT_UQ>(a, inf));
            amax = _mm256_max_ps(amax, a);
        }
        if _mm256_movemask_ps(bad) != 0 {
            *ob = BlockQ8K::quantize(xb);
            continue;
        }
        let m = _mm_max_ps(_mm256_castps256_ps128(amax), _mm256_extractf128_ps(amax, 1));
        let m = _mm_max_ps(m, _mm_movehl_ps(m, m));
        let amax = _mm_cvtss_f32(_mm_max_ss(m, _mm_shuffle_ps(m, m, 1)));
        if amax == 0.0 {
            *ob = bytemuck::Zeroable::zeroed();
            continue;
        }
        // The first element of the largest magnitude, as the reference's strict `>`.
        let av = _mm256_set1_ps(amax);
        let max = xs
            .iter()
            .find_map(|v| {
                let eq = _mm256_cmp_ps::<_CMP_EQ_OQ>(_mm256_andnot_ps(sign, load8(v)), av);
                let mask = _mm256_movemask_ps(eq);
                (mask != 0).then(|| v[mask.trailing_zeros() as usize])
            })
            .unwrap_or(amax);
        let iscale = -127.0 / max;
        if !iscale.is_finite() {
            *ob = BlockQ8K::quantize(xb);
            continue;
        }
        let is = _mm256_set1_ps(iscale);
        let qv: &mut [[u8; 32]; 8] = bytemuck::cast_mut(&mut ob.qs);
        let mut sums = [_mm256_setzero_si256(); 8];
        for (g, (q, v)) in qv.iter_mut().zip(xs.chunks_exact(4)).enumerate() {
            let i: [__m256i; 4] = std::array::from_fn(|k| {
                let f = _mm256_add_ps(_mm256_mul_ps(is, load8(&v[k])), magic);
                let i = _mm256_sub_epi32(_mm256_and_si256(_mm256_castps_si256(f), mant), half);
                // Every quant is now in -127..=127 (|iscale·v| <= 127 rounds to at most
                // 127), so the saturating packs below truncate nothing.
                _mm256_min_epi32(i, k127)
            });
            let p = _mm256_packs_epi16(
                _mm256_packs_epi32(i[0], i[1]),
                _mm256_packs_epi32(i[2], i[3]),
            );
            let p = _mm256_permutevar8x32_epi32(p, order);
            // SAFETY: `q` is 32 writable bytes; `storeu` has no alignment requirement.
            unsafe { _mm256_storeu_si256(q.as_mut_ptr().cast(), p) };
            // Sums of four quants per i32 lane: lanes 0..4 hold the first 16 quants.
            sums[g] = _mm256_madd_epi16(_mm256_maddubs_epi16(ones8, p), ones16);
        }
        // Two rounds of pairwise sums leave, per half, one 16-quant sum of each of four
        // 32-quant groups; `order` interleaves them back into element order.
        let h = |a: usize| {
            let h0 = _mm256_hadd_epi32(sums[a], sums[a + 1]);
            let h1 = _mm256_hadd_epi32(sums[a + 2], sums[a + 3]);
            _mm256_permutevar8x32_epi32(_mm256_hadd_epi32(h0, h1), order)
        };
        let mut bs = [0i32; 16];
        // SAFETY: `bs` is 16 writable i32; `storeu` has no alignment requirement.
        unsafe {
            _mm256_storeu_si256(bs.as_mut_ptr().cast(), h(0));
            _mm256_storeu_si256(bs.as_mut_ptr().add(8).cast(), h(4));
        }
        for (o, s) in ob.bsums.iter_mut().zip(bs) {
            *o = (s as i16).to_le_bytes();
        }
        ob.d = (1.0 / iscale).to_le_bytes();
    }
}

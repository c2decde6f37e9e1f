//! The batched (tiled) products: on every tier, each output of `matmul` over random
//! weight blocks is within 1e-5 of Σ|terms| of the scalar reference `vec_dot` of the
//! pair (the tiles sum the f32 parts in their own order), and the same bits on one
//! thread and on two. Shapes cover odd block counts, row counts that are not a multiple
//! of the 4- or 16-row panels and batches that are not a multiple of the tiles'
//! activation rows. The NEON tiles, which repeat their row kernels' f32 operations, must
//! also give exactly the bits of the tier's `vec_dot`.

mod common;

use common::*;
use edge_kernels::{matmul, GgmlType, KernelTable, Pool, QuantMatrix, Tier};
use edge_quant::k_quants::{BlockQ4K, BlockQ5K, BlockQ6K};
use edge_quant::legacy::{BlockQ4_0, BlockQ4_1, BlockQ5_0, BlockQ5_1, BlockQ8_0};
use proptest::prelude::*;

const REL: f64 = 1e-5;

fn set_d_q4_0(b: &mut BlockQ4_0, d: [u8; 2]) {
    b.d = d;
}
fn set_dm_q4_1(b: &mut BlockQ4_1, (d, m): ([u8; 2], [u8; 2])) {
    (b.d, b.m) = (d, m);
}
fn set_d_q5_0(b: &mut BlockQ5_0, d: [u8; 2]) {
    b.d = d;
}
fn set_dm_q5_1(b: &mut BlockQ5_1, (d, m): ([u8; 2], [u8; 2])) {
    (b.d, b.m) = (d, m);
}
fn set_d_q8_0(b: &mut BlockQ8_0, d: [u8; 2]) {
    b.d = d;
}
fn set_dd_q4_k(b: &mut BlockQ4K, (d, dmin): ([u8; 2], [u8; 2])) {
    (b.d, b.dmin) = (d, dmin);
}
fn set_dd_q5_k(b: &mut BlockQ5K, (d, dmin): ([u8; 2], [u8; 2])) {
    (b.d, b.dmin) = (d, dmin);
}
fn set_d_q6_k(b: &mut BlockQ6K, d: [u8; 2]) {
    b.d = d;
}

/// Activation values: mostly small, some large, some exact zeros.
fn activations(len: usize) -> impl Strategy<Value = Vec<f32>> {
    prop::collection::vec(
        prop_oneof![6 => -2.0f32..2.0, 1 => -300.0f32..300.0, 1 => Just(0.0f32)],
        len,
    )
}

/// Checks `matmul` of `rows × nb` blocks `w` with `xs` on every tier and pool against
/// the per-pair dot products.
fn check(ty: GgmlType, w: &[u8], rows: usize, xs: &[f32]) {
    let cols = w.len() / rows / ty.type_size() * ty.block_size();
    let n = xs.len() / cols;
    let m = QuantMatrix::new(ty, rows, cols, w).unwrap();
    let row_bytes = w.len() / rows;
    let act = edge_kernels::activation_type(ty).unwrap();
    let act_row = cols / act.block_size() * act.type_size();
    let pools = [Pool::single(), Pool::new(2).unwrap()];
    let scalar = KernelTable::scalar();
    let mut quantized = vec![0u8; act_row * n];
    for (x, a) in xs
        .chunks_exact(cols)
        .zip(quantized.chunks_exact_mut(act_row))
    {
        scalar.quantize_activation(ty, x, a).unwrap();
    }
    for t in available_tables() {
        let mut first: Option<Vec<f32>> = None;
        for pool in &pools {
            let mut ys = vec![f32::NAN; n * rows];
            matmul(t, &m, xs, &mut ys, pool).unwrap();
            for (ti, a) in quantized.chunks_exact(act_row).enumerate() {
                for r in 0..rows {
                    let wr = &w[r * row_bytes..(r + 1) * row_bytes];
                    let got = ys[ti * rows + r];
                    let reference = scalar.vec_dot(ty, wr, a).unwrap();
                    let bound = bound(ty, wr, a);
                    assert_close(ty, t.tier(), got, reference, bound, REL);
                    if matches!(t.tier(), Tier::Neon | Tier::NeonDotprod) {
                        // The NEON tiles repeat the row kernels' f32 operations.
                        let row = t.vec_dot(ty, wr, a).unwrap();
                        assert_eq!(got.to_bits(), row.to_bits(), "{ty:?} {}", t.tier());
                    }
                }
            }
            match &first {
                None => first = Some(ys),
                Some(f) => assert!(
                    f.iter().zip(&ys).all(|(a, b)| a.to_bits() == b.to_bits()),
                    "{ty:?} {}: threads={} differs from one thread",
                    t.tier(),
                    pool.threads()
                ),
            }
        }
    }
}

/// Σ|terms| of one pair, for the tolerance against scalar.
fn bound(ty: GgmlType, w: &[u8], a: &[u8]) -> f64 {
    use bytemuck::cast_slice as c;
    match ty {
        GgmlType::Q4_1 => bound_q4_1(c(w), c(a)),
        GgmlType::Q5_1 => bound_q5_1(c(w), c(a)),
        GgmlType::Q4_K => bound_q4_k(c(w), c(a)),
        GgmlType::Q5_K => bound_q5_k(c(w), c(a)),
        GgmlType::Q6_K => bound_q6_k(c(w), c(a)),
        _ => {
            let act = edge_kernels::activation_type(ty).unwrap();
            bound_dequantized::<u8, u8>(ty, w, act, a)
        }
    }
}

/// `(rows, nb, n)`: 1..=20 rows, `1..max_nb` blocks per row, 1..=11 activation rows.
fn shape(max_nb: usize) -> impl Strategy<Value = (usize, usize, usize)> {
    (1usize..=20, 1usize..max_nb, 1usize..=11)
}

macro_rules! tile_test {
    ($name:ident, $ty:expr, $block:ty, $scales:expr, $fix:expr, $max_nb:expr) => {
        proptest! {
            #![proptest_config(config(24))]
            #[test]
            fn $name(
                (w, rows, xs) in shape($max_nb).prop_flat_map(|(rows, nb, n)| (
                    blocks::<$block, _>(rows * nb, $scales, $fix),
                    Just(rows),
                    activations(n * nb * $ty.block_size()),
                ))
            ) {
                check($ty, bytemuck::cast_slice(&w), rows, &xs);
            }
        }
    };
}

tile_test!(q4_0, GgmlType::Q4_0, BlockQ4_0, f16_scale(), set_d_q4_0, 12);
tile_test!(
    q4_1,
    GgmlType::Q4_1,
    BlockQ4_1,
    (f16_scale(), f16_scale()),
    set_dm_q4_1,
    12
);
tile_test!(q5_0, GgmlType::Q5_0, BlockQ5_0, f16_scale(), set_d_q5_0, 12);
tile_test!(
    q5_1,
    GgmlType::Q5_1,
    BlockQ5_1,
    (f16_scale(), f16_scale()),
    set_dm_q5_1,
    12
);
tile_test!(q8_0, GgmlType::Q8_0, BlockQ8_0, f16_scale(), set_d_q8_0, 12);
tile_test!(
    q4_k,
    GgmlType::Q4_K,
    BlockQ4K,
    (f16_scale(), f16_scale()),
    set_dd_q4_k,
    4
);
tile_test!(
    q5_k,
    GgmlType::Q5_K,
    BlockQ5K,
    (f16_scale(), f16_scale()),
    set_dd_q5_k,
    4
);
tile_test!(q6_k, GgmlType::Q6_K, BlockQ6K, f16_scale(), set_d_q6_k, 4);

//! matmul equals one matvec per activation row: bit for bit for batches below the tiles'
//! minimum, within 1e-5 of Σ|w·x| for tiled batches (the tiles sum the f32 parts in their
//! own order), and the same bits on any number of threads; matvec on a pool equals the
//! single-threaded result; wrong lengths are typed errors.

mod common;

use edge_kernels::{matmul, matvec, GgmlType, KernelError, KernelTable, Pool, QuantMatrix};

fn weights(ty: GgmlType, rows: usize, cols: usize) -> Vec<u8> {
    let mut data = vec![0u8; rows * (cols / ty.block_size() * ty.type_size())];
    edge_quant::quantize(ty, &common::values(rows * cols, 3), &mut data).unwrap();
    data
}

#[test]
fn matmul_equals_one_matvec_per_row() {
    // 67 rows: not a multiple of the 4- or 16-row panels; 13 tokens: not a multiple of 8.
    let (rows, cols) = (67, 256);
    let pools = [Pool::single(), Pool::new(2).unwrap(), Pool::new(3).unwrap()];
    for ty in common::WEIGHT_TYPES {
        let data = weights(ty, rows, cols);
        let w = QuantMatrix::new(ty, rows, cols, &data).unwrap();
        let mut deq = vec![0f32; rows * cols];
        edge_quant::dequantize(ty, &data, &mut deq).unwrap();
        for t in common::available_tables() {
            for n in [1, 3, 8, 13] {
                let xs = common::values(n * cols, n as u32);
                let mut want = vec![0f32; n * rows];
                for (x, y) in xs.chunks_exact(cols).zip(want.chunks_exact_mut(rows)) {
                    matvec(t, &w, x, y, &pools[0]).unwrap();
                }
                let mut first: Option<Vec<f32>> = None;
                for pool in &pools {
                    let mut ys = vec![f32::NAN; n * rows];
                    matmul(t, &w, &xs, &mut ys, pool).unwrap();
                    if n < 4 {
                        let same = ys
                            .iter()
                            .zip(&want)
                            .all(|(a, b)| a.to_bits() == b.to_bits());
                        assert!(
                            same,
                            "{ty:?} {} n={n} threads={}: matmul differs from matvec",
                            t.tier(),
                            pool.threads()
                        );
                    }
                    for (ti, x) in xs.chunks_exact(cols).enumerate() {
                        for (r, wr) in deq.chunks_exact(cols).enumerate() {
                            let bound: f64 =
                                wr.iter().zip(x).map(|(a, b)| f64::from(a * b).abs()).sum();
                            let (got, exp) = (ys[ti * rows + r], want[ti * rows + r]);
                            let diff = (f64::from(got) - f64::from(exp)).abs();
                            assert!(
                                diff <= 1e-5 * bound,
                                "{ty:?} {} n={n} row {r} act {ti}: {got:e} vs matvec {exp:e}",
                                t.tier()
                            );
                        }
                    }
                    match &first {
                        None => first = Some(ys),
                        Some(f) => assert!(
                            f.iter().zip(&ys).all(|(a, b)| a.to_bits() == b.to_bits()),
                            "{ty:?} {} n={n} threads={}: differs from one thread",
                            t.tier(),
                            pool.threads()
                        ),
                    }
                }
            }
        }
    }
}

#[test]
fn matvec_on_a_pool_equals_single_threaded() {
    // Large enough that the rows are split into many tasks.
    let (rows, cols) = (1000, 512);
    let x = common::values(cols, 11);
    let single = Pool::single();
    let pools: Vec<Pool> = (2..=4).map(|n| Pool::new(n).unwrap()).collect();
    for ty in common::WEIGHT_TYPES {
        let data = weights(ty, rows, cols);
        let w = QuantMatrix::new(ty, rows, cols, &data).unwrap();
        for t in common::available_tables() {
            let mut want = vec![0f32; rows];
            matvec(t, &w, &x, &mut want, &single).unwrap();
            for pool in &pools {
                for _ in 0..20 {
                    let mut y = vec![f32::NAN; rows];
                    matvec(t, &w, &x, &mut y, pool).unwrap();
                    let same = y.iter().zip(&want).all(|(a, b)| a.to_bits() == b.to_bits());
                    assert!(same, "{ty:?} {} threads={}", t.tier(), pool.threads());
                }
            }
        }
    }
}

#[test]
fn matmul_wrong_lengths_are_errors() {
    let t = KernelTable::best();
    let pool = Pool::new(2).unwrap();
    let data = vec![0u8; 2 * 18];
    let w = QuantMatrix::new(GgmlType::Q4_0, 2, 32, &data).unwrap();
    let mut ys = [0f32; 6];
    // 3 tokens of 32 need 6 outputs.
    matmul(t, &w, &[1.0; 96], &mut ys, &pool).unwrap();
    assert_eq!(ys, [0.0; 6]);
    assert!(matches!(
        matmul(t, &w, &[1.0; 95], &mut ys, &pool),
        Err(KernelError::BadLength { .. })
    ));
    assert!(matches!(
        matmul(t, &w, &[1.0; 64], &mut ys, &pool),
        Err(KernelError::BadLength { .. })
    ));
    assert!(matches!(
        matmul(t, &w, &[1.0; 96], &mut ys[..5], &pool),
        Err(KernelError::BadLength { .. })
    ));
    // No tokens: nothing to do.
    matmul(t, &w, &[], &mut [], &pool).unwrap();
    // Zero columns: every output is 0, the batch size is taken from the output.
    let empty = QuantMatrix::new(GgmlType::Q4_0, 2, 0, &[]).unwrap();
    let mut ys = [f32::NAN; 4];
    matmul(t, &empty, &[], &mut ys, &pool).unwrap();
    assert_eq!(ys, [0.0; 4]);
    let mut ys = [f32::NAN; 3];
    assert!(matches!(
        matmul(t, &empty, &[], &mut ys, &pool),
        Err(KernelError::BadLength { .. })
    ));
}

/// Shapes that take several strips of panels and many groups of activation rows stay
/// within 1e-5 of Σ|w·x| of matvec on every tier.
#[test]
fn large_matmul_stays_close_to_matvec() {
    let pool = Pool::new(2).unwrap();
    let shapes = [
        (GgmlType::Q8_0, 261usize, 64usize, 300usize),
        (GgmlType::Q8_0, 300, 4096, 9),
        (GgmlType::Q4_K, 300, 2048, 9),
        (GgmlType::Q6_K, 100, 2048, 5),
        (GgmlType::Q4_1, 200, 1536, 21),
        (GgmlType::Q5_1, 100, 1024, 9),
    ];
    for (ty, rows, cols, n) in shapes {
        let data = weights(ty, rows, cols);
        let w = QuantMatrix::new(ty, rows, cols, &data).unwrap();
        let mut deq = vec![0f32; rows * cols];
        edge_quant::dequantize(ty, &data, &mut deq).unwrap();
        let xs: Vec<f32> = common::values(n * cols, 5)
            .iter()
            .map(|v| v * 40.0)
            .collect();
        for t in common::available_tables() {
            let mut ys = vec![f32::NAN; n * rows];
            matmul(t, &w, &xs, &mut ys, &pool).unwrap();
            let mut y = vec![0f32; rows];
            for (ti, x) in xs.chunks_exact(cols).enumerate() {
                matvec(t, &w, x, &mut y, &pool).unwrap();
                for (r, wr) in deq.chunks_exact(cols).enumerate() {
                    let bound: f64 = wr.iter().zip(x).map(|(a, b)| f64::from(a * b).abs()).sum();
                    let diff = (f64::from(y[r]) - f64::from(ys[ti * rows + r])).abs();
                    assert!(diff <= 1e-5 * bound, "{ty:?} {} row {r} act {ti}", t.tier());
                }
            }
        }
    }
}

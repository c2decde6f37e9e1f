//! `matvec_multi` / `matmul_multi` equal separate `matvec` / `matmul` calls bit for bit
//! (matrices of different types and activation types in one call, any pool), and wrong
//! lengths are typed errors.

mod common;

use edge_kernels::{
    matmul, matmul_multi, matvec, matvec_multi, GgmlType, KernelError, KernelTable, Pool,
    QuantMatrix,
};

fn weights(ty: GgmlType, rows: usize, cols: usize, seed: u32) -> Vec<u8> {
    let mut data = vec![0u8; rows * (cols / ty.block_size() * ty.type_size())];
    edge_quant::quantize(ty, &common::values(rows * cols, seed), &mut data).unwrap();
    data
}

fn same(a: &[f32], b: &[f32]) -> bool {
    a.len() == b.len() && a.iter().zip(b).all(|(x, y)| x.to_bits() == y.to_bits())
}

#[test]
fn multi_equals_separate_calls() {
    let cols = 512;
    // Q, K, V-like shapes of mixed types: Q8_0, Q8_1 and Q8_K activations in one call.
    let specs = [
        (GgmlType::Q5_0, 64),
        (GgmlType::Q4_K, 20),
        (GgmlType::Q8_0, 36),
        (GgmlType::Q4_1, 8),
        (GgmlType::Q6_K, 5),
        (GgmlType::F16, 3),
    ];
    let data: Vec<Vec<u8>> = specs
        .iter()
        .enumerate()
        .map(|(i, &(ty, rows))| weights(ty, rows, cols, i as u32 + 7))
        .collect();
    let ws: Vec<QuantMatrix<'_>> = specs
        .iter()
        .zip(&data)
        .map(|(&(ty, rows), d)| QuantMatrix::new(ty, rows, cols, d).unwrap())
        .collect();
    let pools = [Pool::single(), Pool::new(2).unwrap(), Pool::new(3).unwrap()];
    for t in common::available_tables() {
        for pool in &pools {
            for n in [1usize, 2, 5, 9] {
                let xs = common::values(n * cols, n as u32 + 1);
                let mut outs: Vec<Vec<f32>> =
                    ws.iter().map(|w| vec![f32::NAN; n * w.rows()]).collect();
                let mut refs: Vec<&mut [f32]> = outs.iter_mut().map(|o| &mut o[..]).collect();
                if n == 1 {
                    matvec_multi(t, &ws, &xs, &mut refs, pool).unwrap();
                } else {
                    matmul_multi(t, &ws, &xs, &mut refs, pool).unwrap();
                }
                for (w, got) in ws.iter().zip(&outs) {
                    let mut want = vec![0f32; n * w.rows()];
                    if n == 1 {
                        matvec(t, w, &xs, &mut want, pool).unwrap();
                    } else {
                        matmul(t, w, &xs, &mut want, pool).unwrap();
                    }
                    assert!(
                        same(got, &want),
                        "{:?} on {} n={n} threads={}",
                        w.ty(),
                        t.tier(),
                        pool.threads()
                    );
                }
            }
        }
    }
}

#[test]
fn multi_wrong_lengths_are_errors() {
    let t = KernelTable::best();
    let pool = Pool::new(2).unwrap();
    let a = vec![0u8; 2 * 18];
    let b = vec![0u8; 3 * 18];
    let wa = QuantMatrix::new(GgmlType::Q4_0, 2, 32, &a).unwrap();
    let wb = QuantMatrix::new(GgmlType::Q4_0, 3, 32, &b).unwrap();
    let x = [1.0f32; 32];
    let (mut ya, mut yb) = ([0f32; 2], [0f32; 3]);
    matvec_multi(t, &[wa, wb], &x, &mut [&mut ya, &mut yb], &pool).unwrap();
    let bad = |r: Result<(), KernelError>| matches!(r, Err(KernelError::BadLength { .. }));
    // One output short, outputs swapped, input too short.
    assert!(bad(matvec_multi(t, &[wa, wb], &x, &mut [&mut ya], &pool)));
    assert!(bad(matvec_multi(
        t,
        &[wa, wb],
        &x,
        &mut [&mut yb, &mut ya],
        &pool
    )));
    assert!(bad(matvec_multi(
        t,
        &[wa, wb],
        &x[..31],
        &mut [&mut ya, &mut yb],
        &pool
    )));
    // Batch of 2: outputs must hold 2 rows each; columns must agree.
    let xs = [1.0f32; 64];
    let (mut ya2, mut yb2) = ([0f32; 4], [0f32; 6]);
    matmul_multi(t, &[wa, wb], &xs, &mut [&mut ya2, &mut yb2], &pool).unwrap();
    assert!(bad(matmul_multi(
        t,
        &[wa, wb],
        &xs,
        &mut [&mut ya2, &mut yb],
        &pool
    )));
    assert!(bad(matmul_multi(
        t,
        &[wa, wb],
        &xs[..63],
        &mut [&mut ya2, &mut yb2],
        &pool
    )));
    let c = vec![0u8; 2 * 36];
    let wc = QuantMatrix::new(GgmlType::Q4_0, 2, 64, &c).unwrap();
    assert!(bad(matmul_multi(
        t,
        &[wa, wc],
        &xs,
        &mut [&mut ya2, &mut [0f32; 2]],
        &pool
    )));
    // Nothing at all is fine.
    matvec_multi(t, &[], &x, &mut [], &pool).unwrap();
    matmul_multi(t, &[], &xs, &mut [], &pool).unwrap();
}

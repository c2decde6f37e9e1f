//! matvec: every row equals its vec_dot, threads do not change the result, and wrong
//! lengths are typed errors, not panics.

mod common;

use edge_kernels::{
    activation_type, matvec, GgmlType, KernelError, KernelTable, Pool, QuantMatrix,
};

#[test]
fn rows_equal_vec_dot_for_every_type_and_tier() {
    let (rows, cols) = (37, 512);
    let x = common::values(cols, 7);
    let (one, four) = (Pool::single(), Pool::new(4).unwrap());
    for ty in common::WEIGHT_TYPES {
        let row_bytes = cols / ty.block_size() * ty.type_size();
        let mut data = vec![0u8; rows * row_bytes];
        edge_quant::quantize(ty, &common::values(rows * cols, 3), &mut data).unwrap();
        let w = QuantMatrix::new(ty, rows, cols, &data).unwrap();
        let act = activation_type(ty).unwrap();
        for t in common::available_tables() {
            let mut a = vec![0u8; cols / act.block_size() * act.type_size()];
            t.quantize_activation(ty, &x, &mut a).unwrap();
            let mut y1 = vec![0f32; rows];
            let mut y4 = vec![f32::NAN; rows];
            matvec(t, &w, &x, &mut y1, &one).unwrap();
            matvec(t, &w, &x, &mut y4, &four).unwrap();
            assert_eq!(y1, y4, "{ty:?} {}: threads changed the result", t.tier());
            for (r, y) in y1.iter().enumerate() {
                let want = t
                    .vec_dot(ty, &data[r * row_bytes..(r + 1) * row_bytes], &a)
                    .unwrap();
                assert_eq!(*y, want, "{ty:?} {} row {r}", t.tier());
            }
        }
    }
}

#[test]
fn wrong_lengths_are_errors() {
    let t = KernelTable::best();
    let data = vec![0u8; 2 * 18];
    assert!(matches!(
        QuantMatrix::new(GgmlType::Q4_0, 2, 32, &data[..35]),
        Err(KernelError::BadLength { .. })
    ));
    assert!(matches!(
        QuantMatrix::new(GgmlType::Q4_0, 1, 36, &data),
        Err(KernelError::NotBlockMultiple { .. })
    ));
    assert!(matches!(
        QuantMatrix::new(GgmlType::IQ2_XXS, 1, 256, &data),
        Err(KernelError::Unsupported { .. })
    ));
    assert!(matches!(
        QuantMatrix::new(GgmlType::Q4_0, usize::MAX, 32, &data),
        Err(KernelError::Overflow { .. })
    ));
    let w = QuantMatrix::new(GgmlType::Q4_0, 2, 32, &data).unwrap();
    let mut y = [0f32; 2];
    let (one, eight) = (Pool::single(), Pool::new(8).unwrap());
    assert!(matches!(
        matvec(t, &w, &[0.0; 31], &mut y, &one),
        Err(KernelError::BadLength { .. })
    ));
    assert!(matches!(
        matvec(t, &w, &[0.0; 32], &mut y[..1], &one),
        Err(KernelError::BadLength { .. })
    ));
    matvec(t, &w, &[1.0; 32], &mut y, &eight).unwrap();
    assert_eq!(y, [0.0, 0.0]);

    // vec_dot entry points.
    assert!(t.vec_dot(GgmlType::Q4_0, &data[..17], &[0u8; 34]).is_err());
    assert!(t.vec_dot(GgmlType::Q4_0, &data[..18], &[0u8; 68]).is_err());
    assert!(t.vec_dot(GgmlType::F16, &data[..18], &[0u8; 34]).is_err());
    assert!(t.vec_dot(GgmlType::TQ1_0, &data[..18], &[0u8; 34]).is_err());
    let w_blocks = [edge_quant::legacy::BlockQ4_0 {
        d: [0; 2],
        qs: [0; 16],
    }; 2];
    let a_blocks = [edge_quant::legacy::BlockQ8_0 {
        d: [0; 2],
        qs: [0; 32],
    }; 1];
    assert!(t.vec_dot_q4_0_q8_0(&w_blocks, &a_blocks).is_err());
    assert!(t.vec_dot_f32(&[1.0; 3], &[1.0; 4]).is_err());
    let mut out = [edge_quant::legacy::BlockQ8_0 {
        d: [0; 2],
        qs: [0; 32],
    }; 1];
    assert!(t.quantize_row_q8_0(&[0.0; 33], &mut out).is_err());
    assert!(t
        .quantize_activation(GgmlType::Q4_K, &[0.0; 32], &mut [0u8; 292])
        .is_err());
}

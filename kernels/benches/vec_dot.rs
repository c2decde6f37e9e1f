//! Single-threaded quantized matrix-vector products through each available tier's
//! kernel table, reported as GB/s of weight bytes.
//!
//! Shapes are ggml's `cols × rows` (ne0 × ne1): 576×1536 (SmolLM2-135M's FFN up/gate)
//! and 2048×640 (Gemma 3 270M's FFN down). K-quants and IQ4_XS need `cols % 256 == 0`, so
//! they run on 2048×640 only.

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use edge_kernels::{matvec, GgmlType, KernelTable, Pool, QuantMatrix, Tier};
use std::hint::black_box;
use std::time::Duration;

/// Deterministic pseudo-random values in [-1, 1).
fn values(n: usize, seed: u64) -> Vec<f32> {
    let mut s = seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1;
    (0..n)
        .map(|_| {
            s ^= s << 13;
            s ^= s >> 7;
            s ^= s << 17;
            (s >> 40) as f32 / (1u64 << 23) as f32 - 1.0
        })
        .collect()
}

fn bench(c: &mut Criterion) {
    let shapes = [(576usize, 1536usize), (2048, 640)];
    let types = [
        GgmlType::Q4_0,
        GgmlType::Q4_1,
        GgmlType::Q5_0,
        GgmlType::Q5_1,
        GgmlType::Q8_0,
        GgmlType::Q2_K,
        GgmlType::Q3_K,
        GgmlType::Q4_K,
        GgmlType::Q5_K,
        GgmlType::Q6_K,
        GgmlType::IQ4_NL,
        GgmlType::IQ4_XS,
        GgmlType::F16,
        GgmlType::BF16,
    ];
    let single = Pool::single();
    let mut group = c.benchmark_group("matvec_1thread");
    group
        .warm_up_time(Duration::from_millis(300))
        .measurement_time(Duration::from_millis(1000))
        .sample_size(20);
    for &(cols, rows) in &shapes {
        let x = values(cols, 1);
        for &ty in &types {
            if cols % ty.block_size() != 0 {
                continue;
            }
            let mut data = vec![0u8; cols / ty.block_size() * ty.type_size() * rows];
            edge_quant::quantize(ty, &values(cols * rows, 2), &mut data).expect("quantize");
            let w = QuantMatrix::new(ty, rows, cols, &data).expect("matrix");
            group.throughput(Throughput::Bytes(data.len() as u64));
            for tier in Tier::ALL {
                let Ok(table) = KernelTable::for_tier(tier) else {
                    continue;
                };
                let mut y = vec![0f32; rows];
                let id = BenchmarkId::new(format!("{ty:?}/{tier}"), format!("{cols}x{rows}"));
                group.bench_function(id, |b| {
                    b.iter(|| matvec(table, &w, black_box(&x), &mut y, &single).expect("matvec"))
                });
            }
        }
    }
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);

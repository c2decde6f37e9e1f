//! Batched products (prompt processing) on 2 threads: the tiled [`matmul`] against the
//! row-by-row baseline [`matmul_rowwise`], for the weight shapes and types of
//! SmolLM2-135M (Q4_1, and its FFN shape again as Q5_1) and Gemma 3 270M (Q5_0, Q4_K,
//! Q6_K, Q8_0) at batch sizes 1, 8, 64 and 512, with the best tier's kernels (or the one
//! `EDGE_CPU_TIER` names). Throughput is reported as elements = floating-point operations
//! (2·rows·cols·batch), so criterion's `Gelem/s` reads as GFLOP/s.
//!
//! Shapes are ggml's `cols × rows`. `MATMUL_BENCH_BATCHES=8,64` limits the batch sizes.

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use edge_kernels::{matmul, matmul_rowwise, GgmlType, KernelTable, Pool, QuantMatrix};
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
    let table = KernelTable::from_env().expect("tier");
    let pool = Pool::new(2).expect("pool");
    let shapes = [
        ("smollm2.attn_q", GgmlType::Q4_1, 576usize, 576usize),
        ("smollm2.ffn_up", GgmlType::Q4_1, 576, 1536),
        ("smollm2.ffn_down", GgmlType::Q4_1, 1536, 576),
        ("gemma3.ffn_up", GgmlType::Q5_0, 640, 2048),
        ("gemma3.attn_output", GgmlType::Q4_K, 1024, 640),
        ("gemma3.ffn_down", GgmlType::Q6_K, 2048, 640),
        ("gemma3.attn_v", GgmlType::Q8_0, 640, 256),
        ("smollm2.ffn_up", GgmlType::Q5_1, 576, 1536),
    ];
    let batches: Vec<usize> = std::env::var("MATMUL_BENCH_BATCHES")
        .ok()
        .map(|v| v.split(',').filter_map(|b| b.trim().parse().ok()).collect())
        .unwrap_or_else(|| vec![1, 8, 64, 512]);
    for (name, ty, cols, rows) in shapes {
        let mut data = vec![0u8; cols / ty.block_size() * ty.type_size() * rows];
        edge_quant::quantize(ty, &values(cols * rows, 2), &mut data).expect("quantize");
        let w = QuantMatrix::new(ty, rows, cols, &data).expect("matrix");
        let mut g = c.benchmark_group(format!("matmul/{name}/{ty:?}/{cols}x{rows}"));
        g.warm_up_time(Duration::from_millis(200))
            .measurement_time(Duration::from_millis(800))
            .sample_size(10);
        for &n in &batches {
            let xs = values(n * cols, 3);
            let mut ys = vec![0f32; n * rows];
            g.throughput(Throughput::Elements((2 * rows * cols * n) as u64));
            g.bench_function(BenchmarkId::new("rowwise", n), |b| {
                b.iter(|| matmul_rowwise(table, &w, black_box(&xs), &mut ys, &pool).expect("mm"))
            });
            g.bench_function(BenchmarkId::new("tiled", n), |b| {
                b.iter(|| matmul(table, &w, black_box(&xs), &mut ys, &pool).expect("mm"))
            });
        }
        g.finish();
    }
}

criterion_group!(benches, bench);
criterion_main!(benches);

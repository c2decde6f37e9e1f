//! Throughput of the reference quantizers and dequantizers (elements per second), the work
//! `edge-run quantize` does per tensor.
//!
//!   cargo bench -p edge-benches --bench quant

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use edge_quant::GgmlType;

const N: usize = 256 * 1024;

/// Deterministic pseudo-gaussian data (sum of uniforms), no RNG crate needed.
fn data() -> Vec<f32> {
    let mut s = 0x2545_f491_4f6c_dd1du64;
    (0..N)
        .map(|_| {
            let mut acc = 0.0f32;
            for _ in 0..4 {
                s ^= s << 13;
                s ^= s >> 7;
                s ^= s << 17;
                acc += (s >> 40) as f32 / (1u64 << 24) as f32;
            }
            acc - 2.0
        })
        .collect()
}

const TYPES: [GgmlType; 14] = [
    GgmlType::F16,
    GgmlType::BF16,
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
];

fn bench(c: &mut Criterion) {
    let x = data();
    let mut q_group = c.benchmark_group("quantize");
    q_group.throughput(Throughput::Elements(N as u64));
    for ty in TYPES {
        let mut q = vec![0u8; N / ty.block_size() * ty.type_size()];
        q_group.bench_function(BenchmarkId::from_parameter(ty), |b| {
            b.iter(|| edge_quant::quantize(ty, &x, &mut q).expect("quantize"))
        });
    }
    q_group.finish();

    let mut d_group = c.benchmark_group("dequantize");
    d_group.throughput(Throughput::Elements(N as u64));
    for ty in TYPES {
        let mut q = vec![0u8; N / ty.block_size() * ty.type_size()];
        edge_quant::quantize(ty, &x, &mut q).expect("quantize");
        let mut y = vec![0f32; N];
        d_group.bench_function(BenchmarkId::from_parameter(ty), |b| {
            b.iter(|| edge_quant::dequantize(ty, &q, &mut y).expect("dequantize"))
        });
    }
    d_group.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default().sample_size(10).measurement_time(std::time::Duration::from_secs(2));
    targets = bench
}
criterion_main!(benches);

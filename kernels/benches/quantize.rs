//! Activation quantization (done once per activation row before every quantized
//! product): the scalar reference table against the best tier's, for Q8_K (K-quant
//! weights) and Q8_0 rows of Gemma 3 270M's widths. Throughput is in elements.

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use edge_kernels::{GgmlType, KernelTable};
use std::hint::black_box;
use std::time::Duration;

/// Deterministic pseudo-random values in [-4, 4).
fn values(n: usize) -> Vec<f32> {
    let mut s = 0x9e37_79b9_7f4a_7c15u64;
    (0..n)
        .map(|_| {
            s ^= s << 13;
            s ^= s >> 7;
            s ^= s << 17;
            (s >> 40) as f32 / (1u64 << 21) as f32 - 4.0
        })
        .collect()
}

fn bench(c: &mut Criterion) {
    let tables = [
        ("scalar", KernelTable::scalar()),
        ("best", KernelTable::best()),
    ];
    for (weight, cols) in [(GgmlType::Q4_K, 2048usize), (GgmlType::Q4_0, 2048)] {
        let act = edge_kernels::activation_type(weight).expect("activation type");
        let x = values(cols);
        let mut out = vec![0u8; cols / act.block_size() * act.type_size()];
        let mut g = c.benchmark_group(format!("quantize/{act:?}/{cols}"));
        g.warm_up_time(Duration::from_millis(200))
            .measurement_time(Duration::from_millis(600))
            .throughput(Throughput::Elements(cols as u64));
        for (name, t) in tables {
            g.bench_function(BenchmarkId::new(name, t.tier()), |b| {
                b.iter(|| {
                    t.quantize_activation(weight, black_box(&x), &mut out)
                        .expect("quantize")
                })
            });
        }
        g.finish();
    }
}

criterion_group!(benches, bench);
criterion_main!(benches);

//! What threading costs per call at the size of a small model's decode, and what batching
//! gains for prompt processing.
//!
//! - `sync`: one call with two empty tasks: [`Pool::run`] on 2 threads, a 2-thread rayon
//!   pool (`join` under `install` from outside the pool, and from inside one of its
//!   workers), and `std::thread::scope` spawning one thread.
//! - `matvec/<shape>`: a Q4_1 matrix-vector product of SmolLM2-135M's shapes (576×576 as
//!   `attn_q`/`attn_output`, 576×192 as `attn_k`/`attn_v`; ggml `cols×rows`): the
//!   library's [`matvec`] on 1 and 2 threads, and the same row loop (public per-row
//!   `vec_dot`, same chunks) on the pool, on rayon and on scoped threads.
//! - `prefill/<shape>/<n>`: `n` tokens through one weight matrix: `n` calls of [`matvec`]
//!   against one [`matmul`], on 1 and 2 threads; `prefill_model` the same over 96
//!   matrices that together exceed the last-level cache, as a whole model does.

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use edge_kernels::{activation_type, matmul, matvec, GgmlType, KernelTable, Pool, QuantMatrix};
use rayon::prelude::*;
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

fn weights(ty: GgmlType, cols: usize, rows: usize) -> Vec<u8> {
    let mut data = vec![0u8; cols / ty.block_size() * ty.type_size() * rows];
    edge_quant::quantize(ty, &values(cols * rows, 2), &mut data).expect("quantize");
    data
}

fn configure<'a>(
    c: &'a mut Criterion,
    name: &str,
) -> criterion::BenchmarkGroup<'a, criterion::measurement::WallTime> {
    let mut g = c.benchmark_group(name);
    g.warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(2))
        .sample_size(30);
    g
}

fn sync(c: &mut Criterion) {
    let pool = Pool::new(2).expect("pool");
    let rayon2 = rayon::ThreadPoolBuilder::new()
        .num_threads(2)
        .build()
        .expect("rayon");
    let mut g = configure(c, "sync");
    g.bench_function("pool2", |b| {
        b.iter(|| {
            pool.run(2, |i| {
                black_box(i);
            })
        })
    });
    g.bench_function("rayon2", |b| {
        b.iter(|| {
            rayon2.install(|| {
                rayon::join(|| black_box(0), || black_box(1));
            })
        })
    });
    // The caller is itself one of rayon's workers (as when a whole decode runs under
    // `install`): `join` then pushes one job to a local deque instead of injecting it.
    g.bench_function("rayon2_from_worker", |b| {
        rayon2.install(|| {
            b.iter(|| {
                rayon::join(|| black_box(0), || black_box(1));
            })
        })
    });
    g.bench_function("spawn2", |b| {
        b.iter(|| {
            std::thread::scope(|s| {
                s.spawn(|| black_box(1));
                black_box(0);
            })
        })
    });
    g.finish();
}

fn matvec_overhead(c: &mut Criterion) {
    let table = KernelTable::best();
    let (single, pool) = (Pool::single(), Pool::new(2).expect("pool"));
    let rayon2 = rayon::ThreadPoolBuilder::new()
        .num_threads(2)
        .build()
        .expect("rayon");
    let ty = GgmlType::Q4_1;
    for (cols, rows) in [(576usize, 576usize), (576, 192)] {
        let data = weights(ty, cols, rows);
        let w = QuantMatrix::new(ty, rows, cols, &data).expect("matrix");
        let x = values(cols, 1);
        let act_ty = activation_type(ty).expect("activation type");
        let mut a = vec![0u8; cols / act_ty.block_size() * act_ty.type_size()];
        let row_bytes = data.len() / rows;
        let mut y = vec![0f32; rows];
        // The same chunks for every hand-rolled variant: 4 per thread.
        let chunk = rows.div_ceil(8);
        let dot_rows = |a: &[u8], first: usize, ys: &mut [f32]| {
            for (k, out) in ys.iter_mut().enumerate() {
                let r = first + k;
                *out = table
                    .vec_dot(ty, &data[r * row_bytes..(r + 1) * row_bytes], a)
                    .expect("vec_dot");
            }
        };
        let mut g = configure(c, &format!("matvec/{ty:?}/{cols}x{rows}"));
        g.throughput(Throughput::Bytes(data.len() as u64));
        g.bench_function("matvec_1thread", |b| {
            b.iter(|| matvec(table, &w, black_box(&x), &mut y, &single).expect("matvec"))
        });
        g.bench_function("matvec_pool2", |b| {
            b.iter(|| matvec(table, &w, black_box(&x), &mut y, &pool).expect("matvec"))
        });
        g.bench_function("rows_pool2", |b| {
            b.iter(|| {
                table
                    .quantize_activation(ty, black_box(&x), &mut a)
                    .expect("q");
                let a = &a;
                pool.run_chunks_mut(&mut y, chunk, |i, ys| dot_rows(a, i * chunk, ys));
            })
        });
        g.bench_function("rows_rayon2", |b| {
            b.iter(|| {
                table
                    .quantize_activation(ty, black_box(&x), &mut a)
                    .expect("q");
                let a = &a;
                rayon2.install(|| {
                    y.par_chunks_mut(chunk)
                        .enumerate()
                        .for_each(|(i, ys)| dot_rows(a, i * chunk, ys))
                });
            })
        });
        g.bench_function("rows_rayon2_from_worker", |b| {
            rayon2.install(|| {
                b.iter(|| {
                    table
                        .quantize_activation(ty, black_box(&x), &mut a)
                        .expect("q");
                    let a = &a;
                    y.par_chunks_mut(chunk)
                        .enumerate()
                        .for_each(|(i, ys)| dot_rows(a, i * chunk, ys))
                })
            })
        });
        g.bench_function("rows_spawn2", |b| {
            b.iter(|| {
                table
                    .quantize_activation(ty, black_box(&x), &mut a)
                    .expect("q");
                let a = &a;
                let half = rows.div_ceil(2);
                let (y0, y1) = y.split_at_mut(half);
                std::thread::scope(|s| {
                    s.spawn(|| dot_rows(a, half, y1));
                    dot_rows(a, 0, y0);
                });
            })
        });
        g.finish();
    }
}

fn prefill(c: &mut Criterion) {
    let table = KernelTable::best();
    let pools = [Pool::single(), Pool::new(2).expect("pool")];
    for (ty, cols, rows) in [
        (GgmlType::Q4_1, 576usize, 1536usize),
        (GgmlType::Q4_K, 2048, 640),
    ] {
        let data = weights(ty, cols, rows);
        let w = QuantMatrix::new(ty, rows, cols, &data).expect("matrix");
        for n in [32usize, 128] {
            let xs = values(n * cols, 3);
            let mut ys = vec![0f32; n * rows];
            let mut g = configure(c, &format!("prefill/{ty:?}/{cols}x{rows}/{n}tok"));
            g.throughput(Throughput::Elements(n as u64));
            for pool in &pools {
                let th = pool.threads();
                g.bench_function(BenchmarkId::new("matvec_per_token", th), |b| {
                    b.iter(|| {
                        for (x, y) in xs.chunks_exact(cols).zip(ys.chunks_exact_mut(rows)) {
                            matvec(table, &w, black_box(x), y, pool).expect("matvec");
                        }
                    })
                });
                g.bench_function(BenchmarkId::new("matmul", th), |b| {
                    b.iter(|| matmul(table, &w, black_box(&xs), &mut ys, pool).expect("matmul"))
                });
            }
            g.finish();
        }
    }
}

/// As `prefill`, over 96 distinct matrices (53 MB, more than the last-level cache), as a
/// model's layers are: per-token products then stream every weight from memory once per
/// token, `matmul` once per batch.
fn prefill_model(c: &mut Criterion) {
    let table = KernelTable::best();
    let pools = [Pool::single(), Pool::new(2).expect("pool")];
    let (ty, cols, rows, n) = (GgmlType::Q4_1, 576usize, 1536usize, 16usize);
    let data: Vec<Vec<u8>> = (0..96).map(|_| weights(ty, cols, rows)).collect();
    let ws: Vec<QuantMatrix<'_>> = data
        .iter()
        .map(|d| QuantMatrix::new(ty, rows, cols, d).expect("matrix"))
        .collect();
    let xs = values(n * cols, 3);
    let mut ys = vec![0f32; n * rows];
    let mut g = c.benchmark_group(format!("prefill_model/{ty:?}/96x{cols}x{rows}/{n}tok"));
    g.warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(4))
        .sample_size(10)
        .throughput(Throughput::Elements(n as u64));
    for pool in &pools {
        let th = pool.threads();
        g.bench_function(BenchmarkId::new("matvec_per_token", th), |b| {
            b.iter(|| {
                for (x, y) in xs.chunks_exact(cols).zip(ys.chunks_exact_mut(rows)) {
                    for w in &ws {
                        matvec(table, w, black_box(x), y, pool).expect("matvec");
                    }
                }
            })
        });
        g.bench_function(BenchmarkId::new("matmul", th), |b| {
            b.iter(|| {
                for w in &ws {
                    matmul(table, w, black_box(&xs), &mut ys, pool).expect("matmul");
                }
            })
        });
    }
    g.finish();
}

criterion_group!(benches, sync, matvec_overhead, prefill, prefill_model);
criterion_main!(benches);

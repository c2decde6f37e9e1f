//! Memory read bandwidth of this machine: the ceiling of decode speed, which reads every
//! weight once per token.
//!
//! `cargo run --release -p edge-benches --bin membw [THREADS...]` sums a 1 GiB buffer of
//! u64 (far larger than any cache) with 1 and 2 threads (or the given counts), 5 passes
//! each, and prints the best pass in GB/s.

use std::hint::black_box;
use std::time::Instant;

const BYTES: usize = 1 << 30;

fn main() {
    let threads: Vec<usize> = std::env::args()
        .skip(1)
        .filter_map(|a| a.parse().ok())
        .collect();
    let threads = if threads.is_empty() {
        vec![1, 2]
    } else {
        threads
    };
    // Distinct values so that no page is shared or compressed away.
    let buf: Vec<u64> = (0..BYTES / 8).map(|i| i as u64 * 0x9e37_79b9).collect();
    for &t in &threads {
        let t = t.max(1);
        let mut best = f64::INFINITY;
        for _ in 0..5 {
            let start = Instant::now();
            std::thread::scope(|s| {
                for part in buf.chunks(buf.len().div_ceil(t)) {
                    s.spawn(move || black_box(sum(part)));
                }
            });
            best = best.min(start.elapsed().as_secs_f64());
        }
        println!(
            "threads {t}: {:.1} GB/s (1 GiB read in {:.1} ms)",
            BYTES as f64 / best / 1e9,
            best * 1e3
        );
    }
}

/// Sum in four independent lanes, so the loop is bound by loads, not by one add chain.
fn sum(x: &[u64]) -> u64 {
    let mut acc = [0u64; 4];
    let mut chunks = x.chunks_exact(4);
    for c in &mut chunks {
        for (a, v) in acc.iter_mut().zip(c) {
            *a = a.wrapping_add(*v);
        }
    }
    let tail = chunks
        .remainder()
        .iter()
        .fold(0u64, |a, v| a.wrapping_add(*v));
    acc.iter().fold(tail, |a, v| a.wrapping_add(*v))
}

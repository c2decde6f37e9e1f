//! Memory read bandwidth of this machine: the ceiling of decode speed, which reads every
//! weight once per token.
//!
//! `cargo run --release -p edge-benches --bin membw [THREADS...]` sums a 1 GiB buffer of
//! u64 (far larger than any cache) with 1 and 2 threads (or the given counts), 5 passes
//! each, and prints the best pass in GB/s: once in ordinary 4 KiB pages (a mapped model
//! file) and once in memory that asked for transparent huge pages (a model read with
//! `--no-mmap`), where the hardware prefetchers need not stop every 4 KiB.

use std::hint::black_box;
use std::time::Instant;

const BYTES: usize = 1 << 30;
/// A transparent huge page.
const HUGE_PAGE: usize = 2 << 20;

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
    for huge in [false, true] {
        let Some(mut map) = memmap2::MmapOptions::new()
            .len(BYTES + HUGE_PAGE)
            .map_anon()
            .ok()
        else {
            eprintln!("cannot map 1 GiB");
            return;
        };
        if huge {
            #[cfg(target_os = "linux")]
            let _ = map.advise(memmap2::Advice::HugePage);
        }
        let start = (map.as_ptr() as usize).next_multiple_of(HUGE_PAGE) - map.as_ptr() as usize;
        let bytes = &mut map[start..start + BYTES];
        // Distinct values so that no page is shared or compressed away.
        for (i, b) in bytes.chunks_exact_mut(8).enumerate() {
            b.copy_from_slice(&(i as u64 * 0x9e37_79b9).to_le_bytes());
        }
        let buf: &[u8] = bytes;
        let pages = if huge { "huge pages" } else { "4 KiB pages" };
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
                "{pages}, threads {t}: {:.1} GB/s (1 GiB read in {:.1} ms)",
                BYTES as f64 / best / 1e9,
                best * 1e3
            );
        }
    }
}

/// Sum of the bytes read as little-endian u64, in four independent lanes, so the loop is
/// bound by loads, not by one add chain.
fn sum(x: &[u8]) -> u64 {
    let mut acc = [0u64; 4];
    let mut chunks = x.chunks_exact(32);
    for c in &mut chunks {
        for (a, v) in acc.iter_mut().zip(c.chunks_exact(8)) {
            let v = u64::from_le_bytes(v.try_into().unwrap_or([0; 8]));
            *a = a.wrapping_add(v);
        }
    }
    acc.iter().fold(0, |a, v| a.wrapping_add(*v))
}

//! Pool: every task runs exactly once whatever the thread count, panics reach the caller
//! without deadlocking, and sharing or re-entering a pool is safe.

use edge_kernels::Pool;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

fn counts(n: usize) -> Vec<AtomicUsize> {
    (0..n).map(|_| AtomicUsize::new(0)).collect()
}

fn assert_each_once(hits: &[AtomicUsize], what: &str) {
    for (i, h) in hits.iter().enumerate() {
        assert_eq!(h.load(Ordering::Relaxed), 1, "{what}: task {i}");
    }
}

#[test]
fn every_task_runs_exactly_once() {
    for threads in 0..=4 {
        let pool = Pool::new(threads).unwrap();
        assert_eq!(pool.threads(), threads.max(1));
        for n in [0, 1, 2, 3, 5, 7, 64, 1000] {
            for round in 0..200 {
                let hits = counts(n);
                pool.run(n, |i| {
                    hits[i].fetch_add(1, Ordering::Relaxed);
                });
                assert_each_once(
                    &hits,
                    &format!("{threads} threads, {n} tasks, round {round}"),
                );
            }
        }
    }
}

#[test]
fn workers_wake_after_sleeping() {
    let pool = Pool::new(3).unwrap();
    for _ in 0..3 {
        // Longer than the spin phase: the workers are asleep on the condition variable.
        std::thread::sleep(Duration::from_millis(30));
        let hits = counts(100);
        let seen = std::sync::Mutex::new(std::collections::HashSet::new());
        pool.run(100, |i| {
            hits[i].fetch_add(1, Ordering::Relaxed);
            seen.lock().unwrap().insert(std::thread::current().id());
            std::thread::sleep(Duration::from_micros(200));
        });
        assert_each_once(&hits, "after sleep");
        // 100 tasks of 200 µs: the woken workers take some of them.
        assert!(seen.lock().unwrap().len() > 1, "workers never woke up");
    }
}

#[test]
fn a_panic_reaches_the_caller_and_the_pool_stays_usable() {
    for threads in 1..=4 {
        let pool = Pool::new(threads).unwrap();
        for bad in [0, 1, 37, 99] {
            let done = AtomicUsize::new(0);
            let r = catch_unwind(AssertUnwindSafe(|| {
                pool.run(100, |i| {
                    if i == bad {
                        panic!("task {i} failed");
                    }
                    done.fetch_add(1, Ordering::Relaxed);
                })
            }));
            let payload = r.expect_err("the panic was swallowed");
            let msg = payload
                .downcast_ref::<String>()
                .expect("payload is the formatted message");
            assert_eq!(msg, &format!("task {bad} failed"));
            assert!(done.load(Ordering::Relaxed) < 100);
            let hits = counts(50);
            pool.run(50, |i| {
                hits[i].fetch_add(1, Ordering::Relaxed);
            });
            assert_each_once(&hits, "after a panic");
        }
    }
}

#[test]
fn shared_between_threads_and_reentrant() {
    let pool = Pool::new(3).unwrap();
    std::thread::scope(|s| {
        for _ in 0..3 {
            s.spawn(|| {
                for _ in 0..300 {
                    let hits = counts(33);
                    pool.run(33, |i| {
                        hits[i].fetch_add(1, Ordering::Relaxed);
                    });
                    assert_each_once(&hits, "shared pool");
                }
            });
        }
    });
    // A task calling back into its own pool runs the inner tasks itself.
    let hits = counts(8 * 8);
    pool.run(8, |i| {
        pool.run(8, |j| {
            hits[i * 8 + j].fetch_add(1, Ordering::Relaxed);
        })
    });
    assert_each_once(&hits, "nested");
}

#[test]
fn chunks_cover_the_slice_once() {
    for threads in 1..=4 {
        let pool = Pool::new(threads).unwrap();
        for (len, chunk) in [(0, 3), (1, 0), (10, 3), (100, 7), (1000, 1000), (5, 10)] {
            let mut data = vec![0usize; len];
            pool.run_chunks_mut(&mut data, chunk, |c, part| {
                for (k, v) in part.iter_mut().enumerate() {
                    *v += c * chunk.max(1) + k + 1;
                }
            });
            let want: Vec<usize> = (1..=len).collect();
            assert_eq!(data, want, "{threads} threads, len {len}, chunk {chunk}");
        }
    }
}

#[test]
fn pools_are_send_and_sync() {
    fn check<T: Send + Sync>() {}
    check::<Pool>();
    // Dropping joins the workers, awake or asleep.
    drop(Pool::new(4).unwrap());
    let p = Pool::new(2).unwrap();
    std::thread::sleep(Duration::from_millis(20));
    drop(p);
}

//! [`Pool`]: a small persistent thread pool for fine-grained data parallelism, built for
//! the matrix products of LLM decoding, where one token runs a few hundred matrix-vector
//! products of a few microseconds each.
//!
//! Spawning threads per product (or entering a general-purpose pool from outside) costs about as
//! much as the product itself at that size. This pool keeps `threads - 1` workers alive; a
//! call publishes one job (a borrowed closure and a task count), the caller and the workers
//! take task indices from one atomic counter, and the call returns once every worker has
//! left the job. Between calls the workers spin for 10 µs (the next product usually
//! follows within microseconds), then poll while yielding their time slice for 200 µs, then
//! sleep on a condition variable, so an idle pool costs no CPU.
//!
//! A call never allocates. Calls are serialised: if the pool is already running a job (a
//! second thread sharing the pool, or a task calling back into its own pool), the new call
//! runs all its tasks on the calling thread instead of waiting, so sharing a pool can
//! neither deadlock nor slow the first caller down.

use crate::KernelError;
use std::any::Any;
use std::fmt;
use std::marker::PhantomData;
use std::panic::{catch_unwind, resume_unwind, AssertUnwindSafe};
use std::sync::atomic::{AtomicBool, AtomicPtr, AtomicUsize, Ordering};
use std::sync::{Arc, Condvar, Mutex, PoisonError};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// How long an idle worker polls for the next call in a tight loop: the usual gap
/// between two matrix products of one token.
const WORKER_SPIN: Duration = Duration::from_micros(10);
/// How long an idle worker keeps polling, yielding its time slice between polls (so a
/// busy machine runs other threads, the caller's included), before it sleeps: short
/// enough that an idle pool soon stops using CPU.
const WORKER_YIELD: Duration = Duration::from_micros(200);
/// How long the caller polls for the workers to finish before it yields its time slice
/// on each poll (a worker that is not running, because another process has the core,
/// cannot finish until it runs again).
const CALLER_SPIN: Duration = Duration::from_micros(20);

/// Polls `done` until it returns true or `budget` has passed; true if it did.
fn spin_until(budget: Duration, mut done: impl FnMut() -> bool) -> bool {
    let start = Instant::now();
    loop {
        for _ in 0..64 {
            if done() {
                return true;
            }
            std::hint::spin_loop();
        }
        if start.elapsed() >= budget {
            return false;
        }
    }
}

/// A persistent pool of `threads - 1` worker threads plus the calling thread.
///
/// ```
/// use edge_kernels::cpu::Pool;
/// use std::sync::atomic::{AtomicUsize, Ordering};
///
/// let pool = Pool::new(2)?;
/// let data: Vec<usize> = (0..1000).collect();
/// let sum = AtomicUsize::new(0);
/// pool.run(10, |task| {
///     let part: usize = data[task * 100..(task + 1) * 100].iter().sum();
///     sum.fetch_add(part, Ordering::Relaxed);
/// });
/// assert_eq!(sum.into_inner(), 499_500);
/// # Ok::<(), edge_kernels::KernelError>(())
/// ```
pub struct Pool {
    /// `None` for a single-threaded pool.
    shared: Option<Arc<Shared>>,
    workers: Vec<JoinHandle<()>>,
    /// Set while a call is using the workers.
    busy: AtomicBool,
}

/// One call's work, on the caller's stack.
struct Job<'a> {
    f: &'a (dyn Fn(usize) + Sync),
    n_tasks: usize,
    next: AtomicUsize,
    /// The first panic of a task, re-raised on the calling thread.
    panic: Mutex<Option<Box<dyn Any + Send>>>,
}

impl Job<'_> {
    /// Takes and runs tasks until none are left. A panicking task stops the handing out
    /// of further tasks; its payload is kept for the caller.
    fn work(&self) {
        loop {
            let i = self.next.fetch_add(1, Ordering::Relaxed);
            if i >= self.n_tasks {
                return;
            }
            if let Err(payload) = catch_unwind(AssertUnwindSafe(|| (self.f)(i))) {
                self.next.store(self.n_tasks, Ordering::Relaxed);
                self.panic
                    .lock()
                    .unwrap_or_else(PoisonError::into_inner)
                    .get_or_insert(payload);
                return;
            }
        }
    }
}

/// What the caller and the workers share.
struct Shared {
    /// The current job, or null. Its lifetime is erased: see the SAFETY comments of
    /// [`Pool::run`] and [`worker`].
    job: AtomicPtr<Job<'static>>,
    /// Workers that may hold a pointer read from `job`.
    active: AtomicUsize,
    /// Bumped once per call (and at shutdown) to wake the workers.
    epoch: AtomicUsize,
    /// Workers asleep (or about to sleep) on `wake`.
    sleepers: AtomicUsize,
    shutdown: AtomicBool,
    lock: Mutex<()>,
    wake: Condvar,
}

impl Shared {
    /// Waits until `epoch` differs from `seen` and returns it: spinning first, then
    /// yielding, then asleep on the condition variable.
    fn wait_epoch(&self, seen: usize) -> usize {
        let mut e = seen;
        let mut changed = || {
            e = self.epoch.load(Ordering::Acquire);
            e != seen
        };
        if spin_until(WORKER_SPIN, &mut changed) {
            return e;
        }
        let start = Instant::now();
        while start.elapsed() < WORKER_YIELD {
            std::thread::yield_now();
            if changed() {
                return e;
            }
        }
        let mut guard = self.lock.lock().unwrap_or_else(PoisonError::into_inner);
        // The caller bumps `epoch` and then reads `sleepers`; we raise `sleepers` and then
        // read `epoch` (all SeqCst). So either the caller sees us and notifies under the
        // lock (which we hold until `wait` releases it), or we see its new epoch.
        self.sleepers.fetch_add(1, Ordering::SeqCst);
        let e = loop {
            let e = self.epoch.load(Ordering::SeqCst);
            if e != seen {
                break e;
            }
            guard = self
                .wake
                .wait(guard)
                .unwrap_or_else(PoisonError::into_inner);
        };
        self.sleepers.fetch_sub(1, Ordering::SeqCst);
        e
    }

    /// Wakes every sleeping worker after `epoch` was bumped.
    fn notify(&self) {
        if self.sleepers.load(Ordering::SeqCst) > 0 {
            let _guard = self.lock.lock().unwrap_or_else(PoisonError::into_inner);
            self.wake.notify_all();
        }
    }
}

fn worker(shared: Arc<Shared>) {
    let mut seen = 0;
    loop {
        seen = shared.wait_epoch(seen);
        if shared.shutdown.load(Ordering::SeqCst) {
            return;
        }
        // Announce ourselves before reading the job pointer: `Pool::run` clears the
        // pointer before it reads `active`, so it either waits for us or we read null (or
        // a later call's job, which that call waits for in the same way).
        shared.active.fetch_add(1, Ordering::SeqCst);
        let job = shared.job.load(Ordering::SeqCst);
        if !job.is_null() {
            // SAFETY: `job` points to a `Job` on the stack of a `Pool::run` call that is
            // still inside its wait loop: it stored the pointer before we could read it,
            // and it only returns after clearing the pointer and then seeing `active == 0`,
            // which cannot happen before our `fetch_sub` below. The closure it borrows
            // lives at least as long as that call.
            let job = unsafe { &*job };
            job.work();
        }
        shared.active.fetch_sub(1, Ordering::SeqCst);
    }
}

/// Releases [`Pool::busy`] on drop.
struct BusyGuard<'a>(&'a AtomicBool);

impl Drop for BusyGuard<'_> {
    fn drop(&mut self) {
        self.0.store(false, Ordering::Release);
    }
}

impl Pool {
    /// A pool that runs each call on `threads` threads: the caller and `threads - 1`
    /// workers started now (`0` and `1` both mean the caller alone, starting nothing).
    ///
    /// Fails with [`KernelError::ThreadSpawn`] if the operating system refuses a thread.
    pub fn new(threads: usize) -> Result<Pool, KernelError> {
        let mut pool = Pool {
            shared: None,
            workers: Vec::new(),
            busy: AtomicBool::new(false),
        };
        if threads <= 1 {
            return Ok(pool);
        }
        let shared = Arc::new(Shared {
            job: AtomicPtr::new(std::ptr::null_mut()),
            active: AtomicUsize::new(0),
            epoch: AtomicUsize::new(0),
            sleepers: AtomicUsize::new(0),
            shutdown: AtomicBool::new(false),
            lock: Mutex::new(()),
            wake: Condvar::new(),
        });
        pool.shared = Some(Arc::clone(&shared));
        for i in 1..threads {
            let s = Arc::clone(&shared);
            let handle = std::thread::Builder::new()
                .name(format!("edge-pool-{i}"))
                .spawn(move || worker(s))
                .map_err(|e| KernelError::ThreadSpawn(e.to_string()))?;
            // On an error above, dropping `pool` stops the workers already started.
            pool.workers.push(handle);
        }
        Ok(pool)
    }

    /// A pool of a single thread: every call runs on the caller.
    pub fn single() -> Pool {
        Pool {
            shared: None,
            workers: Vec::new(),
            busy: AtomicBool::new(false),
        }
    }

    /// Threads a call runs on, the caller included.
    pub fn threads(&self) -> usize {
        self.workers.len() + 1
    }

    /// Calls `f(task)` once for every `task` in `0..n_tasks`, spread over the pool's
    /// threads (the calling thread included), and returns when all calls have returned.
    ///
    /// Tasks run in no particular order and concurrently, so `f` should write only to
    /// memory that no other task touches (see [`run_chunks_mut`](Self::run_chunks_mut)).
    /// If the pool is already busy (another thread's call, or `f` calling back into its
    /// own pool) the tasks run on the calling thread, in order.
    ///
    /// # Panics
    ///
    /// If a task panics, no further tasks are started; the call waits for the tasks
    /// already running and then re-raises the first panic on the calling thread. The pool
    /// stays usable.
    pub fn run<F: Fn(usize) + Sync>(&self, n_tasks: usize, f: F) {
        let shared = match &self.shared {
            // `n_tasks` past `usize::MAX - threads` could wrap the task counter.
            Some(s) if n_tasks > 1 && n_tasks <= usize::MAX / 2 => s,
            _ => return (0..n_tasks).for_each(f),
        };
        if self
            .busy
            .compare_exchange(false, true, Ordering::Acquire, Ordering::Relaxed)
            .is_err()
        {
            return (0..n_tasks).for_each(f);
        }
        let _busy = BusyGuard(&self.busy);
        let job = Job {
            f: &f,
            n_tasks,
            next: AtomicUsize::new(0),
            panic: Mutex::new(None),
        };
        let ptr: *const Job<'_> = &job;
        shared
            .job
            .store(ptr.cast::<Job<'static>>().cast_mut(), Ordering::SeqCst);
        shared.epoch.fetch_add(1, Ordering::SeqCst);
        shared.notify();
        // Our own tasks: `work` catches their panics, so nothing unwinds past the wait
        // below while a worker may still use `job` or `f`.
        job.work();
        shared.job.store(std::ptr::null_mut(), Ordering::SeqCst);
        // SAFETY (of erasing the lifetime of `job` above): we do not return, and so
        // neither `job` nor `f` is dropped, until `active` is 0 after the pointer was
        // cleared. A worker raises `active` before it reads the pointer and lowers it
        // only after its last use of the job, so any worker that read the pointer is
        // counted here, and any that raises `active` later reads null (SeqCst order).
        let idle = || shared.active.load(Ordering::SeqCst) == 0;
        if !spin_until(CALLER_SPIN, idle) {
            while !idle() {
                std::thread::yield_now();
            }
        }
        let panic = job
            .panic
            .into_inner()
            .unwrap_or_else(PoisonError::into_inner);
        if let Some(payload) = panic {
            resume_unwind(payload);
        }
    }

    /// Splits `data` into chunks of `chunk` elements (the last one may be shorter; `0`
    /// counts as `1`) and calls `f(index, chunk)` once per chunk through
    /// [`run`](Self::run), each chunk borrowed mutably by exactly one call.
    pub fn run_chunks_mut<T: Send, F: Fn(usize, &mut [T]) + Sync>(
        &self,
        data: &mut [T],
        chunk: usize,
        f: F,
    ) {
        let chunk = chunk.max(1);
        let len = data.len();
        let out = SharedMut::new(data);
        self.run(len.div_ceil(chunk), |i| {
            let start = i * chunk;
            let end = (start + chunk).min(len);
            // SAFETY: `run` calls this once per `i`, and the ranges of distinct `i` are
            // disjoint and within `data`.
            f(i, unsafe { out.slice(start, end) });
        });
    }
}

impl Drop for Pool {
    fn drop(&mut self) {
        if let Some(shared) = &self.shared {
            shared.shutdown.store(true, Ordering::SeqCst);
            shared.epoch.fetch_add(1, Ordering::SeqCst);
            shared.notify();
        }
        for handle in self.workers.drain(..) {
            // A worker cannot panic (tasks' panics are caught); nothing to report.
            let _ = handle.join();
        }
    }
}

impl fmt::Debug for Pool {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Pool")
            .field("threads", &self.threads())
            .finish_non_exhaustive()
    }
}

/// A mutable slice that tasks on several threads write disjoint parts of.
pub(crate) struct SharedMut<'a, T> {
    ptr: *mut T,
    len: usize,
    _borrow: PhantomData<&'a mut [T]>,
}

// SAFETY: it is a `&mut [T]` split between threads; every access goes through the
// `unsafe` methods whose callers promise disjointness, so sending `T`s between threads
// (`T: Send`) is all that is needed.
unsafe impl<T: Send> Send for SharedMut<'_, T> {}
// SAFETY: as above: shared references only hand out disjoint parts.
unsafe impl<T: Send> Sync for SharedMut<'_, T> {}

impl<'a, T> SharedMut<'a, T> {
    pub(crate) fn new(data: &'a mut [T]) -> Self {
        SharedMut {
            ptr: data.as_mut_ptr(),
            len: data.len(),
            _borrow: PhantomData,
        }
    }

    /// `data[start..end]`.
    ///
    /// # Safety
    ///
    /// `start <= end <= len`, and no other live reference overlaps the range.
    pub(crate) unsafe fn slice(&self, start: usize, end: usize) -> &'a mut [T] {
        debug_assert!(start <= end && end <= self.len);
        // SAFETY: in bounds of the borrowed slice and not aliased (the caller's promise).
        unsafe { std::slice::from_raw_parts_mut(self.ptr.add(start), end - start) }
    }

    /// The start of the borrowed slice, for kernels that write through raw pointers
    /// (with the same promises as [`write`](Self::write) for every element written).
    pub(crate) fn as_mut_ptr(&self) -> *mut T {
        self.ptr
    }

    /// `data[i] = value`.
    ///
    /// # Safety
    ///
    /// `i < len`, and no other thread reads or writes `data[i]` meanwhile.
    pub(crate) unsafe fn write(&self, i: usize, value: T) {
        debug_assert!(i < self.len);
        // SAFETY: in bounds and not aliased (the caller's promise); the old value is a
        // plain value the caller's type allows overwriting (dropped in place).
        unsafe { *self.ptr.add(i) = value };
    }
}

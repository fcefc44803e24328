//! The library's one thread pool.
//!
//! Work is cut into chunks whose boundaries depend only on the problem size, never on the
//! thread count, and each chunk writes its own part of the output; so results are bit-identical
//! on 1, 2 or 8 threads, whichever thread happens to compute a chunk. Threads claim chunks one
//! at a time from a shared counter, so a thread that is slowed (by a cold cache, by another
//! process) does not hold the others up. The calling thread works too, and the pool holds one
//! worker fewer than the thread count, so that two threads means two busy cores.
//!
//! Workers join a job; they are not owed one. Once the caller has run out of chunks it closes
//! the job and waits only for the workers that joined in time: on a busy machine a worker that
//! the OS has not scheduled yet would otherwise hold every step up for a whole time slice.
//!
//! Why not rayon: a training step hands the pool about ten GEMMs, each a fraction of a
//! millisecond. rayon's idle workers go to sleep within microseconds, and waking one costs
//! tens of microseconds per GEMM (measured in `benches/NOTES.md`). These workers instead spin
//! for a short while after each job, so back-to-back jobs start at once, and only then park.

use std::cell::Cell;
use std::panic::{AssertUnwindSafe, catch_unwind, resume_unwind};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicPtr, AtomicU64, AtomicUsize, Ordering};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use parking_lot::{Condvar, Mutex};

use crate::error::{Error, Result};

/// The environment variable that sets the default thread count.
pub const NUM_THREADS_ENV: &str = "FERROGRAD_NUM_THREADS";

/// Most threads one process may ask for; more would only add contention.
const MAX_THREADS: usize = 256;

/// How long an idle worker keeps spinning for the next job before it parks.
const SPIN_BEFORE_PARKING: Duration = Duration::from_micros(500);

static NUM_THREADS: AtomicUsize = AtomicUsize::new(0);
static POOL: Mutex<Option<Arc<Pool>>> = Mutex::new(None);

thread_local! {
    /// Set on pool workers and on a thread while it dispatches, so that nested parallel work
    /// runs inline instead of waiting for workers that are busy with the outer job.
    static INSIDE_POOL: Cell<bool> = const { Cell::new(false) };
}

fn default_num_threads() -> usize {
    std::env::var(NUM_THREADS_ENV)
        .ok()
        .and_then(|v| v.trim().parse::<usize>().ok())
        .filter(|&n| (1..=MAX_THREADS).contains(&n))
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()))
}

pub fn num_threads() -> usize {
    match NUM_THREADS.load(Ordering::Relaxed) {
        0 => {
            let n = default_num_threads();
            // Another thread may have set it meanwhile; theirs wins.
            let _ = NUM_THREADS.compare_exchange(0, n, Ordering::Relaxed, Ordering::Relaxed);
            NUM_THREADS.load(Ordering::Relaxed)
        }
        n => n,
    }
}

pub fn set_num_threads(n: usize) -> Result<()> {
    if !(1..=MAX_THREADS).contains(&n) {
        return Err(Error::value(format!(
            "set_num_threads: expected a count between 1 and {MAX_THREADS}, received {n}"
        )));
    }
    let mut pool = POOL.lock();
    if NUM_THREADS.swap(n, Ordering::Relaxed) != n {
        // The old workers finish their current job (if any) and exit.
        *pool = None;
    }
    Ok(())
}

/// Runs `task(i)` for every chunk `i` in `0..chunks`, spread over the pool, the caller included.
pub fn for_each_chunk(chunks: usize, task: impl Fn(usize) + Sync) {
    let threads = num_threads();
    if chunks <= 1 || threads <= 1 || INSIDE_POOL.with(Cell::get) {
        (0..chunks).for_each(task);
        return;
    }
    let Some(pool) = pool(threads) else {
        (0..chunks).for_each(task);
        return;
    };
    // One job at a time: a second caller (another Python thread) runs its work inline.
    let Some(_dispatching) = pool.dispatch.try_lock() else {
        (0..chunks).for_each(task);
        return;
    };
    // The pool's own size, not `threads`: another thread may have resized the pool meanwhile.
    let lanes = (pool.workers.len() + 1).min(chunks);
    let next = AtomicUsize::new(0);
    let run_lane = |_lane: usize| loop {
        let chunk = next.fetch_add(1, Ordering::Relaxed);
        if chunk >= chunks {
            break;
        }
        task(chunk);
    };
    pool.run(lanes, &run_lane);
}

fn pool(threads: usize) -> Option<Arc<Pool>> {
    let mut slot = POOL.lock();
    if let Some(pool) = slot.as_ref() {
        return Some(pool.clone());
    }
    let pool = Pool::start(threads - 1)?;
    *slot = Some(pool.clone());
    Some(pool)
}

/// A job as the workers see it: the lane function and how many lanes take part.
struct Job<'a> {
    run_lane: &'a (dyn Fn(usize) + Sync),
    lanes: usize,
}

/// The job's state word: the job's tag (its generation) in the high half, the closed flag, and
/// the count of workers inside the job in the low bits.
const CLOSED: u64 = 1 << 31;
const INSIDE_MASK: u64 = CLOSED - 1;

fn job_tag(generation: usize) -> u64 {
    (generation as u64 & 0xffff_ffff) << 32
}

struct Shared {
    /// Bumped once per job; workers wait for it to change.
    generation: AtomicUsize,
    /// The current job (valid for a worker from its joining until it leaves).
    job: AtomicPtr<Job<'static>>,
    /// Who is inside the current job, and whether it is still open (see `job_tag`).
    state: AtomicU64,
    /// Set when a worker's lane panicked, to re-raise on the caller.
    panicked: AtomicBool,
    shutdown: AtomicBool,
    parked: Mutex<usize>,
    wake: Condvar,
}

struct Pool {
    shared: Arc<Shared>,
    dispatch: Mutex<()>,
    workers: Vec<JoinHandle<()>>,
}

impl Pool {
    fn start(workers: usize) -> Option<Arc<Pool>> {
        let shared = Arc::new(Shared {
            generation: AtomicUsize::new(0),
            job: AtomicPtr::new(std::ptr::null_mut()),
            state: AtomicU64::new(CLOSED),
            panicked: AtomicBool::new(false),
            shutdown: AtomicBool::new(false),
            parked: Mutex::new(0),
            wake: Condvar::new(),
        });
        let mut handles = Vec::with_capacity(workers);
        for index in 0..workers {
            let worker_shared = shared.clone();
            let handle = std::thread::Builder::new()
                .name(format!("ferrograd-{index}"))
                .spawn(move || worker_loop(&worker_shared, index + 1));
            match handle {
                Ok(handle) => handles.push(handle),
                // No threads to be had: shut down the ones started and run single-threaded.
                Err(_) => {
                    shared.shutdown.store(true, Ordering::Release);
                    shared.wake.notify_all();
                    return None;
                }
            }
        }
        Some(Arc::new(Pool {
            shared,
            dispatch: Mutex::new(()),
            workers: handles,
        }))
    }

    /// Runs lane 0 on the calling thread and lanes `1..lanes` on workers, returning when all are
    /// done.
    fn run(&self, lanes: usize, run_lane: &(dyn Fn(usize) + Sync)) {
        let shared = &self.shared;
        let job = Job { run_lane, lanes };
        // SAFETY: a worker dereferences the job only between joining it (possible while it is
        // open) and leaving it, and this function does not return (so `job` stays alive) until
        // the job is closed and every worker that joined has left.
        let erased = &job as *const Job<'_> as *mut Job<'static>;
        shared.job.store(erased, Ordering::Release);
        shared.panicked.store(false, Ordering::Relaxed);
        let generation = shared.generation.load(Ordering::Relaxed).wrapping_add(1);
        shared.state.store(job_tag(generation), Ordering::Release);
        shared.generation.store(generation, Ordering::Release);
        if *shared.parked.lock() > 0 {
            shared.wake.notify_all();
        }
        INSIDE_POOL.with(|inside| inside.set(true));
        let own = catch_unwind(AssertUnwindSafe(|| run_lane(0)));
        INSIDE_POOL.with(|inside| inside.set(false));
        // Every chunk is claimed: workers that have not joined yet have nothing left to do.
        shared.state.fetch_or(CLOSED, Ordering::AcqRel);
        let mut spins = 0u32;
        while shared.state.load(Ordering::Acquire) & INSIDE_MASK > 0 {
            spins = spins.saturating_add(1);
            if spins < 1 << 16 {
                std::hint::spin_loop();
            } else {
                std::thread::yield_now();
            }
        }
        shared.job.store(std::ptr::null_mut(), Ordering::Release);
        if let Err(payload) = own {
            resume_unwind(payload);
        }
        if shared.panicked.load(Ordering::Acquire) {
            panic!("a task on a ferrograd worker thread panicked");
        }
    }
}

impl Drop for Pool {
    fn drop(&mut self) {
        self.shared.shutdown.store(true, Ordering::Release);
        {
            let _parked = self.shared.parked.lock();
            self.shared.wake.notify_all();
        }
        for handle in self.workers.drain(..) {
            let _ = handle.join();
        }
    }
}

/// Enters the job of `generation` if it is still open; false when it is closed or gone.
fn join(shared: &Shared, generation: usize) -> bool {
    let tag = job_tag(generation);
    let mut state = shared.state.load(Ordering::Acquire);
    loop {
        if state & !INSIDE_MASK != tag {
            return false;
        }
        match shared.state.compare_exchange_weak(
            state,
            state + 1,
            Ordering::AcqRel,
            Ordering::Acquire,
        ) {
            Ok(_) => return true,
            Err(now) => state = now,
        }
    }
}

fn worker_loop(shared: &Shared, lane: usize) {
    INSIDE_POOL.with(|inside| inside.set(true));
    // The generation the pool started at (not a fresh load: the first job may already have
    // been posted before this thread got to run).
    let mut seen = 0;
    loop {
        let idle_since = Instant::now();
        let mut spins = 0u32;
        loop {
            if shared.shutdown.load(Ordering::Acquire) {
                return;
            }
            let generation = shared.generation.load(Ordering::Acquire);
            if generation != seen {
                seen = generation;
                break;
            }
            spins = spins.wrapping_add(1);
            if spins.is_multiple_of(64) && idle_since.elapsed() > SPIN_BEFORE_PARKING {
                let mut parked = shared.parked.lock();
                *parked += 1;
                // Re-check under the lock: the dispatcher bumps first, then notifies under it.
                while shared.generation.load(Ordering::Acquire) == seen
                    && !shared.shutdown.load(Ordering::Acquire)
                {
                    shared.wake.wait(&mut parked);
                }
                *parked -= 1;
            } else {
                std::hint::spin_loop();
            }
        }
        if !join(shared, seen) {
            continue;
        }
        let job = shared.job.load(Ordering::Acquire);
        // SAFETY: see `Pool::run`: the job outlives every worker that joined it.
        if let Some(job) = unsafe { job.as_ref() }
            && lane < job.lanes
            && catch_unwind(AssertUnwindSafe(|| (job.run_lane)(lane))).is_err()
        {
            shared.panicked.store(true, Ordering::Release);
        }
        shared.state.fetch_sub(1, Ordering::AcqRel);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::AtomicU64;

    #[test]
    fn every_chunk_runs_once_whatever_the_thread_count() {
        for threads in [1, 2, 3, 8] {
            set_num_threads(threads).unwrap();
            for chunks in [0, 1, 2, 5, 64] {
                let hits: Vec<AtomicU64> = (0..chunks).map(|_| AtomicU64::new(0)).collect();
                for _ in 0..20 {
                    for_each_chunk(chunks, |i| {
                        hits[i].fetch_add(1, Ordering::Relaxed);
                        // Nested parallel work runs inline rather than deadlocking.
                        for_each_chunk(3, |_| {});
                    });
                }
                assert!(hits.iter().all(|h| h.load(Ordering::Relaxed) == 20));
            }
        }
        set_num_threads(2).unwrap();
    }

    #[test]
    fn a_panicking_task_panics_the_caller_and_the_pool_survives() {
        set_num_threads(2).unwrap();
        let result = catch_unwind(|| for_each_chunk(4, |i| assert!(i != 3, "boom")));
        assert!(result.is_err());
        let count = AtomicU64::new(0);
        for_each_chunk(4, |_| {
            count.fetch_add(1, Ordering::Relaxed);
        });
        assert_eq!(count.load(Ordering::Relaxed), 4);
    }
}

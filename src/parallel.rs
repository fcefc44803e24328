//! The library's one thread pool.
//!
//! Work is cut into chunks whose boundaries depend only on the problem size, never on the
//! thread count, and each chunk writes its own part of the output; so results are bit-identical
//! on 1, 2 or 8 threads. The calling thread takes a share of the chunks itself and the pool holds
//! one worker fewer than the thread count, so that two threads means two busy cores.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use parking_lot::RwLock;
use rayon::{ThreadPool, ThreadPoolBuilder};

use crate::error::{Error, Result};

/// The environment variable that sets the default thread count.
pub const NUM_THREADS_ENV: &str = "FERROGRAD_NUM_THREADS";

/// Most threads one process may ask for; more would only add contention.
const MAX_THREADS: usize = 256;

static NUM_THREADS: AtomicUsize = AtomicUsize::new(0);
static WORKERS: RwLock<Option<Arc<ThreadPool>>> = RwLock::new(None);

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
    let mut workers = WORKERS.write();
    if NUM_THREADS.swap(n, Ordering::Relaxed) != n {
        *workers = None;
    }
    Ok(())
}

fn workers() -> Result<Option<Arc<ThreadPool>>> {
    let threads = num_threads();
    if threads <= 1 {
        return Ok(None);
    }
    if let Some(pool) = WORKERS.read().as_ref() {
        return Ok(Some(pool.clone()));
    }
    let mut slot = WORKERS.write();
    if let Some(pool) = slot.as_ref() {
        return Ok(Some(pool.clone()));
    }
    let pool = ThreadPoolBuilder::new()
        .num_threads(threads - 1)
        .thread_name(|i| format!("ferrograd-{i}"))
        .build()
        .map_err(|e| Error::value(format!("cannot start the thread pool: {e}")))?;
    let pool = Arc::new(pool);
    *slot = Some(pool.clone());
    Ok(Some(pool))
}

/// Runs `task(i)` for every chunk `i` in `0..chunks`, spread over the pool. Chunks are dealt
/// to threads in contiguous runs; the caller runs the first run itself.
pub fn for_each_chunk(chunks: usize, task: impl Fn(usize) + Sync) {
    let pool = match workers() {
        Ok(Some(pool)) if chunks > 1 => pool,
        // One thread, one chunk, or no pool to be had: run inline (same results either way).
        _ => {
            (0..chunks).for_each(task);
            return;
        }
    };
    let lanes = num_threads().min(chunks);
    let lane_range = |lane: usize| (lane * chunks / lanes)..((lane + 1) * chunks / lanes);
    let task = &task;
    pool.in_place_scope(|scope| {
        for lane in 1..lanes {
            let range = lane_range(lane);
            scope.spawn(move |_| range.for_each(task));
        }
        lane_range(0).for_each(task);
    });
}

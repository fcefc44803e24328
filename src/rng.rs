//! The library's random number generator: one seeded ChaCha stream, so that `set_seed(n)` makes
//! initialisation, shuffling and dropout bit-identical from run to run.

use parking_lot::Mutex;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

static GLOBAL_RNG: Mutex<Option<ChaCha8Rng>> = Mutex::new(None);

pub fn set_seed(seed: u64) {
    *GLOBAL_RNG.lock() = Some(ChaCha8Rng::seed_from_u64(seed));
}

/// Runs `f` with the global generator (seeded from the operating system until `set_seed`).
pub fn with_rng<R>(f: impl FnOnce(&mut ChaCha8Rng) -> R) -> R {
    let mut guard = GLOBAL_RNG.lock();
    let rng = guard.get_or_insert_with(rand::make_rng::<ChaCha8Rng>);
    f(rng)
}

/// Runs `f` with the global generator replaced by one seeded with `seed`, then puts the global
/// one back (even if `f` panics): a seeded initializer draws the same values at every call, as
/// Keras's do, without moving the library's stream.
pub fn with_seed<R>(seed: u64, f: impl FnOnce() -> R) -> R {
    struct Restore(Option<ChaCha8Rng>);
    impl Drop for Restore {
        fn drop(&mut self) {
            *GLOBAL_RNG.lock() = self.0.take();
        }
    }
    let saved = GLOBAL_RNG.lock().replace(ChaCha8Rng::seed_from_u64(seed));
    let _restore = Restore(saved);
    f()
}

/// A generator of its own for one long task (a `fit`), drawn from the global stream so that it
/// too follows the seed, without holding the global lock for the task's length.
pub fn fork() -> ChaCha8Rng {
    with_rng(ChaCha8Rng::from_rng)
}

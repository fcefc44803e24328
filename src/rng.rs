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

/// A generator of its own for one long task (a `fit`), drawn from the global stream so that it
/// too follows the seed, without holding the global lock for the task's length.
pub fn fork() -> ChaCha8Rng {
    with_rng(ChaCha8Rng::from_rng)
}

//! Whether ops record a graph, per thread (like PyTorch's grad mode).

use std::cell::Cell;

thread_local! {
    static GRAD_ENABLED: Cell<bool> = const { Cell::new(true) };
}

pub fn is_grad_enabled() -> bool {
    GRAD_ENABLED.with(Cell::get)
}

/// Sets the mode and returns the previous one.
pub fn set_grad_enabled(enabled: bool) -> bool {
    GRAD_ENABLED.with(|cell| cell.replace(enabled))
}

/// Restores the previous grad mode when dropped.
#[must_use = "recording resumes as soon as the guard is dropped"]
pub struct NoGradGuard {
    previous: bool,
}

/// Stops recording until the returned guard is dropped.
pub fn no_grad() -> NoGradGuard {
    NoGradGuard {
        previous: set_grad_enabled(false),
    }
}

impl Drop for NoGradGuard {
    fn drop(&mut self) {
        set_grad_enabled(self.previous);
    }
}

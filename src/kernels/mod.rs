//! Low-level kernels on flat slices and strided matrices, shared by the ops, the layers and the
//! optimizers. Each one is deterministic: work is split by size, never by thread count.

pub mod conv_direct;
pub mod elementwise;
pub mod gemm;
pub mod im2col;
pub mod packed;

use crate::parallel;

/// Below this many elements an elementwise pass stays on one thread: waking a second one costs
/// more than it saves.
pub const PARALLEL_MIN_ELEMENTS: usize = 1 << 16;

/// The size of the chunks a large elementwise pass is cut into.
const ELEMENTWISE_CHUNK: usize = 1 << 14;

/// A raw pointer that may cross threads; every user writes a disjoint region.
pub(crate) struct SharedMut<T>(pub *mut T);
impl<T> Clone for SharedMut<T> {
    fn clone(&self) -> Self {
        *self
    }
}
impl<T> Copy for SharedMut<T> {}
impl<T> SharedMut<T> {
    /// The pointer; a method (not the field) so that closures capture the whole `Sync` wrapper.
    pub fn get(self) -> *mut T {
        self.0
    }
}
// SAFETY: only used to hand disjoint regions of one buffer to the chunks of `for_each_chunk`,
// which all finish before the buffer's borrow ends.
unsafe impl<T: Send> Send for SharedMut<T> {}
unsafe impl<T: Send> Sync for SharedMut<T> {}

/// Runs `f(offset, chunk)` over consecutive chunks of `data`, in parallel when it is large.
pub fn par_chunks_mut<T: Send>(data: &mut [T], f: impl Fn(usize, &mut [T]) + Sync) {
    let len = data.len();
    if len < PARALLEL_MIN_ELEMENTS {
        f(0, data);
        return;
    }
    let chunks = len.div_ceil(ELEMENTWISE_CHUNK);
    let base = SharedMut(data.as_mut_ptr());
    parallel::for_each_chunk(chunks, |i| {
        let start = i * ELEMENTWISE_CHUNK;
        let end = (start + ELEMENTWISE_CHUNK).min(len);
        // SAFETY: chunks are disjoint and in bounds, and `data` is borrowed mutably for the
        // whole call.
        let chunk = unsafe { std::slice::from_raw_parts_mut(base.get().add(start), end - start) };
        f(start, chunk);
    });
}

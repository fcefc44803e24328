//! Blocks of batch rows, each run through every time step on a thread of its own, and the
//! buffers those blocks write to side by side.

use std::marker::PhantomData;
use std::ops::Range;

use super::Dims;
use crate::kernels::SharedMut;
use crate::parallel;

/// The rows in `range` of a buffer of rows of `width`.
pub(super) fn rows_in<T>(buf: &[T], range: Range<usize>, width: usize) -> &[T] {
    &buf[range.start * width..range.end * width]
}

/// The fewest batch rows per block worth a task of their own when a block runs a whole sequence.
const MIN_SEQUENCE_BLOCK_ROWS: usize = 16;
/// Below this many multiply-adds in the recurrent products of a whole sequence, it runs on the
/// calling thread.
const SEQUENCE_PARALLEL_MIN_FLOPS: usize = 1 << 20;

/// Runs `work` over blocks of batch rows, each block through every time step on its own.
///
/// The rows of a batch never meet inside a recurrent layer: a row's state at one step depends
/// only on that row's state at the step before. So each block runs the whole loop (the step's
/// product with the recurrent kernel, then its gate math) with no hand-off between threads at
/// each step, which at these sizes cost more than the gate math itself. Each row's values are
/// computed the same way whatever the blocking, so results do not depend on the thread count.
/// Two blocks per thread, where the batch allows, lets a thread that finishes early take over
/// work from one that lost its core.
pub(super) fn for_sequence_blocks(dims: Dims, work: impl Fn(Range<usize>) + Sync) {
    let Dims {
        batch,
        steps,
        units,
        ..
    } = dims;
    let threads = parallel::num_threads();
    let flops = batch
        .saturating_mul(units)
        .saturating_mul(dims.width())
        .saturating_mul(steps);
    if threads < 2 || batch < 2 || flops < SEQUENCE_PARALLEL_MIN_FLOPS {
        work(0..batch);
        return;
    }
    let blocks = if batch >= 2 * threads * MIN_SEQUENCE_BLOCK_ROWS {
        2 * threads
    } else {
        threads.min(batch)
    };
    let rows = batch.div_ceil(blocks);
    parallel::for_each_chunk(batch.div_ceil(rows), |i| {
        work(i * rows..((i + 1) * rows).min(batch))
    });
}

/// A buffer of rows of `width` that blocks of rows may write to from several threads.
#[derive(Clone, Copy)]
pub(super) struct SharedRows<'a, T> {
    ptr: SharedMut<T>,
    rows: usize,
    width: usize,
    _borrow: PhantomData<&'a mut [T]>,
}

impl<'a, T> SharedRows<'a, T> {
    pub(super) fn new(data: &'a mut [T], width: usize) -> Self {
        SharedRows {
            ptr: SharedMut(data.as_mut_ptr()),
            rows: data.len() / width.max(1),
            width,
            _borrow: PhantomData,
        }
    }

    /// The rows in `range`.
    ///
    /// # Safety
    /// Ranges taken while another is alive must not overlap.
    #[allow(clippy::mut_from_ref)]
    pub(super) unsafe fn rows(&self, range: Range<usize>) -> &mut [T] {
        assert!(range.end <= self.rows, "row range out of bounds");
        // SAFETY: inside the borrowed buffer (checked above); disjointness is the caller's part.
        unsafe {
            std::slice::from_raw_parts_mut(
                self.ptr.get().add(range.start * self.width),
                range.len() * self.width,
            )
        }
    }
}

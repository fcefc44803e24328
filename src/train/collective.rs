//! What data-parallel training asks of the processes' communication layer (MPI, through the
//! Python binding): sums across processes in place and a broadcast from process 0.
//!
//! The loop in `fit` uses it when `Hooks::collective` gives one: every process holds the same
//! model and takes its share of each global batch; after backward each process scales its
//! gradients by its number of rows, one `sum_in_place` adds them up together with the rows and
//! the loss sums, and each process divides by the global row count, so that the update is the
//! one a single process makes on the whole global batch.

use crate::error::Result;

/// A buffer summed element by element across processes.
pub enum SumBuffer<'a> {
    F32(&'a mut [f32]),
    F64(&'a mut [f64]),
}

impl SumBuffer<'_> {
    /// The number of elements.
    pub fn len(&self) -> usize {
        match self {
            SumBuffer::F32(values) => values.len(),
            SumBuffer::F64(values) => values.len(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// The processes of a data-parallel job, as the training loop sees them.
///
/// Example: a `Collective` over one process is the identity: `sum_in_place` and
/// `broadcast_bytes` leave their buffers as they are.
pub trait Collective {
    /// This process's index, from 0 to `process_count() - 1`.
    fn process_index(&self) -> usize;

    /// The number of processes in the job.
    fn process_count(&self) -> usize;

    /// Replaces each buffer, on every process, by its element-wise sum over all processes.
    /// Every process passes buffers of the same lengths and element types, in the same order.
    fn sum_in_place(&mut self, buffers: &mut [SumBuffer<'_>]) -> Result<()>;

    /// Replaces `bytes`, on every process, by process 0's.
    fn broadcast_bytes(&mut self, bytes: &mut [u8]) -> Result<()>;

    /// Starts summing `buffer` across processes in place, without waiting for the result;
    /// `wait_sums` completes every sum started. Every process starts the same sums in the same
    /// order. The default sums at once (a blocking implementation).
    ///
    /// # Safety
    /// The buffer's memory must stay allocated, and be neither read nor written, until
    /// `wait_sums` returns: the sum may still be writing into it.
    unsafe fn start_sum(&mut self, buffer: SumBuffer<'_>) -> Result<()> {
        self.sum_in_place(&mut [buffer])
    }

    /// Waits for every sum `start_sum` started.
    fn wait_sums(&mut self) -> Result<()> {
        Ok(())
    }

    /// Lets the started sums move on without waiting for them (MPI progresses a non-blocking
    /// operation only inside its calls); the loop calls it as backward goes on.
    fn progress(&mut self) -> Result<()> {
        Ok(())
    }
}

/// The rows of a global batch of `rows` that process `index` of `count` takes: a contiguous
/// share, the first `rows % count` processes taking one row more. A process may take none
/// (a last partial batch smaller than the number of processes).
pub fn share(rows: usize, index: usize, count: usize) -> std::ops::Range<usize> {
    let base = rows / count;
    let extra = rows % count;
    let start = index * base + index.min(extra);
    let len = base + usize::from(index < extra);
    start..start + len
}

#[cfg(test)]
mod tests {
    use super::share;

    #[test]
    fn shares_cover_the_batch_once_in_order() {
        for rows in 0..12 {
            for count in 1..5 {
                let mut next = 0;
                for index in 0..count {
                    let range = share(rows, index, count);
                    assert_eq!(range.start, next);
                    next = range.end;
                }
                assert_eq!(next, rows);
            }
        }
        assert_eq!(share(10, 0, 3), 0..4);
        assert_eq!(share(10, 2, 3), 7..10);
        assert_eq!(share(1, 1, 2), 1..1);
    }
}

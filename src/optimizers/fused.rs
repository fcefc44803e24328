//! The fused pass every update rule runs: one walk over a parameter, its gradient and its slot
//! variables, nothing allocated, large parameters cut into fixed-size chunks run in parallel
//! (`par_chunks_mut`), so that the result does not depend on the thread count.

use crate::bail;
use crate::dtype::Element;
use crate::error::{Error, Result};
use crate::kernels::{SharedMut, par_chunks_mut};
use crate::storage::Storage;

/// The most slot variables one parameter has (Adam with AMSGrad, centered RMSprop with
/// momentum).
pub const MAX_SLOTS: usize = 3;

/// A parameter's slot variables as flat slices in the rule's `slot_names` order, padded with
/// empty slices to `MAX_SLOTS`.
pub type Slots<'a, T> = [&'a mut [T]; MAX_SLOTS];

/// The slots as typed flat slices, padded with empty ones; every slot must have `len`
/// elements, as must the gradient.
pub(crate) fn slot_slices<T: Element>(
    slots: &mut [Storage],
    len: usize,
    grad_len: usize,
) -> Result<Slots<'_, T>> {
    if grad_len != len || slots.len() > MAX_SLOTS {
        bail!("optimizer: a gradient or the slots do not match their parameter");
    }
    let mut out: Slots<'_, T> = [&mut [], &mut [], &mut []];
    for (dst, slot) in out.iter_mut().zip(slots.iter_mut()) {
        let slice = slot
            .typed_mut::<T>()?
            .as_slice_mut()
            .ok_or_else(|| Error::value("optimizer: a slot variable is not contiguous"))?;
        if slice.len() != len {
            bail!(
                "optimizer: a slot variable has {} elements, its parameter {len}",
                slice.len()
            );
        }
        *dst = slice;
    }
    Ok(out)
}

/// Runs `body` over matching chunks of the parameter, the gradient and the slots (empty slots
/// stay empty), in parallel for large parameters; chunk boundaries depend only on the length.
///
/// Every non-empty slot must have the parameter's length, and `g` at least as many elements
/// (`slot_slices` checks both before a rule runs).
pub fn fused<T: Element>(
    w: &mut [T],
    g: &[T],
    slots: Slots<'_, T>,
    body: impl Fn(&mut [T], &[T], Slots<'_, T>) + Sync,
) {
    assert!(
        g.len() >= w.len() && slots.iter().all(|s| s.is_empty() || s.len() == w.len()),
        "fused: the gradient and the slots must have the parameter's length"
    );
    let slots = slots.map(|s| (SharedMut(s.as_mut_ptr()), s.len()));
    par_chunks_mut(w, |offset, w| {
        let n = w.len();
        let g = &g[offset..offset + n];
        let chunk = slots.map(|(ptr, len)| -> &mut [T] {
            if len == 0 {
                &mut []
            } else {
                // SAFETY: every non-empty slot has the parameter's length (checked above), is
                // a buffer of its own, and is borrowed mutably for the whole call; chunks are
                // disjoint ranges of it.
                unsafe { std::slice::from_raw_parts_mut(ptr.get().add(offset), n) }
            }
        });
        body(w, g, chunk);
    });
}

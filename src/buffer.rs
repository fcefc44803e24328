//! `Buffer`: the memory behind a `Storage`. Either an array ferrograd allocated and owns, or a
//! view of another library's memory (a PyTorch tensor or numpy array imported through DLPack),
//! kept alive by that library's owner object for as long as the view lives.
//!
//! Kernels never see the difference: a buffer dereferences to ndarray's `ArrayRefD`, the type
//! that both owned arrays and views dereference to.
//!
//! Copy-on-write stays sound for foreign memory: cloning a buffer (what `Arc::make_mut` does when
//! a storage has a second holder) gives an owned copy, so ferrograd writes into the foreign memory
//! only through a storage nobody else in ferrograd holds, which is how an optimizer step or
//! `assign` on an imported tensor updates the other library's tensor too, as in PyTorch.

use std::any::Any;
use std::fmt;
use std::ops::{Deref, DerefMut};

use ndarray::{ArrayD, ArrayRefD, ArrayViewMutD, IxDyn};

pub struct Buffer<T: 'static> {
    repr: Repr<T>,
}

enum Repr<T: 'static> {
    Owned(ArrayD<T>),
    Foreign(Foreign<T>),
}

struct Foreign<T: 'static> {
    // Declared before `_owner` so that the view is dropped before the memory can be released.
    view: ArrayViewMutD<'static, T>,
    _owner: Box<dyn Any + Send + Sync>,
}

impl<T> Buffer<T> {
    /// A buffer over memory that `owner` keeps alive.
    ///
    /// # Safety
    /// `data` must point to `shape.iter().product()` initialised, aligned values of `T` in C
    /// order, readable and writable, that stay valid and in place for as long as `owner` lives.
    /// Accesses from outside ferrograd while a ferrograd operation reads or writes them are a
    /// data race, as when two PyTorch tensors share memory across threads.
    pub unsafe fn from_foreign(
        data: *mut T,
        shape: &[usize],
        owner: Box<dyn Any + Send + Sync>,
    ) -> Buffer<T> {
        // SAFETY: the caller's contract; the `'static` lifetime is bounded in practice by
        // `owner`, which is dropped after the view.
        let view = unsafe { ArrayViewMutD::from_shape_ptr(IxDyn(shape), data) };
        Buffer {
            repr: Repr::Foreign(Foreign {
                view,
                _owner: owner,
            }),
        }
    }

    /// Whether the memory belongs to another library.
    pub fn is_foreign(&self) -> bool {
        matches!(self.repr, Repr::Foreign(_))
    }
}

impl<T: Clone> Buffer<T> {
    /// The values as an owned array: no copy for an owned buffer, a copy for a foreign one.
    pub fn into_owned(self) -> ArrayD<T> {
        match self.repr {
            Repr::Owned(array) => array,
            Repr::Foreign(foreign) => foreign.view.to_owned(),
        }
    }
}

impl<T> From<ArrayD<T>> for Buffer<T> {
    fn from(array: ArrayD<T>) -> Buffer<T> {
        Buffer {
            repr: Repr::Owned(array),
        }
    }
}

impl<T> Deref for Buffer<T> {
    type Target = ArrayRefD<T>;

    fn deref(&self) -> &ArrayRefD<T> {
        match &self.repr {
            Repr::Owned(array) => array,
            Repr::Foreign(foreign) => &foreign.view,
        }
    }
}

impl<T> DerefMut for Buffer<T> {
    fn deref_mut(&mut self) -> &mut ArrayRefD<T> {
        match &mut self.repr {
            Repr::Owned(array) => array,
            Repr::Foreign(foreign) => &mut foreign.view,
        }
    }
}

impl<T: Clone> Clone for Buffer<T> {
    /// A foreign buffer clones into an owned copy: the copy must not write into the original.
    fn clone(&self) -> Buffer<T> {
        Buffer::from(self.deref().to_owned())
    }
}

impl<T: fmt::Debug> fmt::Debug for Buffer<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let origin = if self.is_foreign() {
            "foreign"
        } else {
            "owned"
        };
        f.debug_struct("Buffer")
            .field("origin", &origin)
            .field("values", &self.deref())
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};

    use super::*;

    /// Counts its drops, standing in for a Python object that owns the memory.
    struct Owner {
        memory: Vec<f32>,
        drops: Arc<AtomicUsize>,
    }

    impl Drop for Owner {
        fn drop(&mut self) {
            self.drops.fetch_add(1, Ordering::SeqCst);
        }
    }

    fn foreign(values: Vec<f32>, shape: &[usize]) -> (Buffer<f32>, *const f32, Arc<AtomicUsize>) {
        let drops = Arc::new(AtomicUsize::new(0));
        let mut owner = Box::new(Owner {
            memory: values,
            drops: Arc::clone(&drops),
        });
        let data = owner.memory.as_mut_ptr();
        // SAFETY: the vector lives in the boxed owner, which the buffer keeps; moving the box
        // does not move the vector's heap memory.
        let buffer = unsafe { Buffer::from_foreign(data, shape, owner) };
        (buffer, data, drops)
    }

    #[test]
    fn a_foreign_buffer_reads_and_writes_the_foreign_memory() {
        let (mut buffer, data, _) = foreign(vec![1.0, 2.0, 3.0, 4.0, 5.0, 6.0], &[2, 3]);
        assert!(buffer.is_foreign());
        assert_eq!(buffer.shape(), &[2, 3]);
        assert_eq!(buffer.as_slice().unwrap().as_ptr(), data);
        buffer[[1, 2]] = 60.0;
        // SAFETY: `data` points into the owner the buffer still keeps alive.
        assert_eq!(unsafe { *data.add(5) }, 60.0);
    }

    #[test]
    fn a_clone_of_a_foreign_buffer_is_an_owned_copy() {
        let (buffer, data, _) = foreign(vec![1.0, 2.0], &[2]);
        let mut copy = buffer.clone();
        assert!(!copy.is_foreign());
        copy[[0]] = 9.0;
        assert_eq!(buffer.as_slice().unwrap(), &[1.0, 2.0]);
        assert_ne!(copy.as_slice().unwrap().as_ptr(), data);
    }

    #[test]
    fn the_owner_is_dropped_with_the_buffer_and_not_before() {
        let (buffer, _, drops) = foreign(vec![1.0; 4], &[4]);
        let owned = buffer.clone().into_owned();
        assert_eq!(drops.load(Ordering::SeqCst), 0);
        drop(buffer);
        assert_eq!(drops.load(Ordering::SeqCst), 1);
        assert_eq!(owned.as_slice().unwrap(), &[1.0; 4]);
    }
}

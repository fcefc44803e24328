//! `Storage`: the data of a tensor, an n-dimensional array of one of the supported dtypes.
//!
//! Invariant: every array held here is in standard (C-contiguous) layout, so kernels may work on
//! flat slices. Constructors and the `map_storage!` family restore the layout where an ndarray
//! operation returned another one.

use ndarray::{ArrayD, ArrayRefD, IxDyn};

use crate::buffer::Buffer;
use crate::dtype::{DType, Element};
use crate::error::{Error, Result};

#[derive(Clone, Debug)]
pub enum Storage {
    F32(Buffer<f32>),
    F64(Buffer<f64>),
}

/// Matches a `Storage` and binds its typed array (as `&ArrayRefD<T>`), for code that is generic
/// over the element.
/// The body's value must be an `ArrayD<T>`; the result is a `Storage` of the same dtype.
#[macro_export]
macro_rules! map_storage {
    ($storage:expr, $array:ident => $body:expr) => {
        match $storage {
            $crate::storage::Storage::F32($array) => {
                let $array: &ndarray::ArrayRefD<f32> = &$array;
                $crate::storage::Storage::F32($crate::storage::standard($body).into())
            }
            $crate::storage::Storage::F64($array) => {
                let $array: &ndarray::ArrayRefD<f64> = &$array;
                $crate::storage::Storage::F64($crate::storage::standard($body).into())
            }
        }
    };
}

/// Like `map_storage!`, for a body that returns `Result<ArrayD<T>>`.
#[macro_export]
macro_rules! try_map_storage {
    ($storage:expr, $array:ident => $body:expr) => {
        match $storage {
            $crate::storage::Storage::F32($array) => {
                let $array: &ndarray::ArrayRefD<f32> = &$array;
                $crate::storage::Storage::F32($crate::storage::standard($body?).into())
            }
            $crate::storage::Storage::F64($array) => {
                let $array: &ndarray::ArrayRefD<f64> = &$array;
                $crate::storage::Storage::F64($crate::storage::standard($body?).into())
            }
        }
    };
}

/// Matches a `Storage` and runs the body on its typed array, returning whatever the body returns.
#[macro_export]
macro_rules! with_storage {
    ($storage:expr, $array:ident => $body:expr) => {
        match $storage {
            $crate::storage::Storage::F32($array) => $body,
            $crate::storage::Storage::F64($array) => $body,
        }
    };
}

/// Matches two storages that must share a dtype; a mismatch returns `Error::DTypeMismatch`
/// from the enclosing function. The body's value must be an `ArrayD<T>` (or `Result` with `?`).
#[macro_export]
macro_rules! map_storage2 {
    ($op:expr, $lhs:expr, $rhs:expr, |$a:ident, $b:ident| $body:expr) => {
        match ($lhs, $rhs) {
            ($crate::storage::Storage::F32($a), $crate::storage::Storage::F32($b)) => {
                let ($a, $b): (&ndarray::ArrayRefD<f32>, &ndarray::ArrayRefD<f32>) = (&$a, &$b);
                $crate::storage::Storage::F32($crate::storage::standard($body).into())
            }
            ($crate::storage::Storage::F64($a), $crate::storage::Storage::F64($b)) => {
                let ($a, $b): (&ndarray::ArrayRefD<f64>, &ndarray::ArrayRefD<f64>) = (&$a, &$b);
                $crate::storage::Storage::F64($crate::storage::standard($body).into())
            }
            (a, b) => {
                return Err($crate::error::Error::DTypeMismatch {
                    op: $op,
                    expected: a.dtype(),
                    received: b.dtype(),
                })
            }
        }
    };
}

/// The number of elements of `shape`, or an error when the product overflows or the buffer
/// could never be allocated.
pub fn checked_numel(shape: &[usize], dtype: DType) -> Result<usize> {
    let numel = shape
        .iter()
        .try_fold(1usize, |acc, &d| acc.checked_mul(d))
        .ok_or_else(|| Error::OutOfMemory(format!("the shape {shape:?} has too many elements")))?;
    let limit = crate::memory_limit::max_allocation_bytes().min(isize::MAX as usize);
    match numel.checked_mul(dtype.size_of()) {
        Some(bytes) if bytes <= limit => Ok(numel),
        Some(bytes) => Err(Error::OutOfMemory(format!(
            "cannot allocate {} for a {dtype} tensor of shape {shape:?}: the machine can give \
             at most {} (memory and swap)",
            format_bytes(bytes),
            format_bytes(limit)
        ))),
        None => Err(Error::OutOfMemory(format!(
            "the shape {shape:?} has too many elements to allocate"
        ))),
    }
}

/// `numel` zeros from the allocator's zeroed memory (calloc: fresh pages the system maps only
/// when written), failing with `OutOfMemory` instead of aborting when it cannot be had.
fn try_zeroed_vec<T: Element>(numel: usize, shape: &[usize]) -> Result<Vec<T>> {
    if numel == 0 {
        return Ok(Vec::new());
    }
    let out_of_memory = || {
        Error::OutOfMemory(format!(
            "cannot allocate {} for a tensor of shape {shape:?}",
            format_bytes(numel.saturating_mul(T::DTYPE.size_of()))
        ))
    };
    let layout = std::alloc::Layout::array::<T>(numel).map_err(|_| out_of_memory())?;
    // SAFETY: the layout has a non-zero size (numel > 0 and T is f32 or f64).
    let pointer = unsafe { std::alloc::alloc_zeroed(layout) }.cast::<T>();
    if pointer.is_null() {
        return Err(out_of_memory());
    }
    // SAFETY: the global allocator gave `pointer` with the layout of `[T; numel]`, which is
    // what `Vec` frees with; every element is initialised, as all-zero bits are 0.0 in f32/f64.
    Ok(unsafe { Vec::from_raw_parts(pointer, numel, numel) })
}

/// A byte count for a message: "1.5 GiB".
fn format_bytes(bytes: usize) -> String {
    const UNITS: [&str; 5] = ["bytes", "KiB", "MiB", "GiB", "TiB"];
    let mut value = bytes as f64;
    let mut unit = 0;
    while value >= 1024.0 && unit < UNITS.len() - 1 {
        value /= 1024.0;
        unit += 1;
    }
    if unit == 0 {
        format!("{bytes} bytes")
    } else {
        format!("{value:.1} {}", UNITS[unit])
    }
}

/// An array of `shape` filled with `value`, failing cleanly instead of aborting when the memory
/// cannot be had.
pub fn try_full<T: Element>(shape: &[usize], value: T) -> Result<ArrayD<T>> {
    let numel = checked_numel(shape, T::DTYPE)?;
    let mut data = Vec::new();
    data.try_reserve_exact(numel).map_err(|_| {
        Error::OutOfMemory(format!(
            "cannot allocate {} bytes for a tensor of shape {shape:?}",
            numel * T::DTYPE.size_of()
        ))
    })?;
    data.resize(numel, value);
    ArrayD::from_shape_vec(IxDyn(shape), data).map_err(|e| Error::value(e.to_string()))
}

pub fn try_zeros<T: Element>(shape: &[usize]) -> Result<ArrayD<T>> {
    let numel = checked_numel(shape, T::DTYPE)?;
    if numel * T::DTYPE.size_of() < LARGE_ALLOCATION_BYTES {
        return try_full(shape, T::zero());
    }
    let data = zeroed_vec::<T>(numel).ok_or_else(|| {
        Error::OutOfMemory(format!(
            "cannot allocate {} bytes for a tensor of shape {shape:?}",
            numel * T::DTYPE.size_of()
        ))
    })?;
    ArrayD::from_shape_vec(IxDyn(shape), data).map_err(|e| Error::value(e.to_string()))
}

/// From this size on, `try_zeros` asks the allocator for zeroed memory (which may come fresh
/// from the system, zero already); smaller blocks are reused ones that must be written anyway,
/// where filling them inline is cheaper than the allocator's call to `memset`.
const LARGE_ALLOCATION_BYTES: usize = 1 << 20;

/// `len` zeros from the allocator's zeroed allocation (`None` when it fails): memory fresh from
/// the system is zero already and is not written again, where filling a vector would touch
/// every page twice.
fn zeroed_vec<T: Element>(len: usize) -> Option<Vec<T>> {
    let layout = std::alloc::Layout::array::<T>(len).ok()?;
    if layout.size() == 0 {
        return Some(Vec::new());
    }
    // SAFETY: the layout has a non-zero size. `T` is f32 or f64, whose all-zero bits are the
    // value 0.0, so the zeroed block holds `len` initialised values; it comes from the global
    // allocator with exactly the layout of a `Vec<T>` of capacity `len`.
    unsafe {
        let ptr = std::alloc::alloc_zeroed(layout).cast::<T>();
        (!ptr.is_null()).then(|| Vec::from_raw_parts(ptr, len, len))
    }
}

/// Builds an array from a flat vector in C order, checking that the sizes agree.
pub fn array_from_vec<T: Element>(shape: &[usize], data: Vec<T>) -> Result<ArrayD<T>> {
    let expected = checked_numel(shape, T::DTYPE)?;
    if expected != data.len() {
        return Err(Error::shape(
            "tensor",
            format!(
                "{} values cannot fill a tensor of shape {shape:?} ({expected} elements)",
                data.len()
            ),
        ));
    }
    ArrayD::from_shape_vec(IxDyn(shape), data).map_err(|e| Error::value(e.to_string()))
}

/// Restores the standard-layout invariant without copying arrays that already have it.
pub fn standard<T: Element>(array: ArrayD<T>) -> ArrayD<T> {
    if array.is_standard_layout() {
        array
    } else {
        array.as_standard_layout().into_owned()
    }
}

impl Storage {
    pub fn from_array<T: Element>(array: ArrayD<T>) -> Storage {
        T::into_storage(standard(array))
    }

    pub fn zeros(dtype: DType, shape: &[usize]) -> Result<Storage> {
        Storage::full(dtype, shape, 0.0)
    }

    /// Zeros whose memory the system provides only when it is first written: a buffer that
    /// is about to be overwritten (weights being loaded) costs nothing until then, so a file
    /// that describes huge weights it does not hold is refused before it takes any memory.
    pub fn lazy_zeros(dtype: DType, shape: &[usize]) -> Result<Storage> {
        fn zeroed<T: Element>(shape: &[usize]) -> Result<ArrayD<T>> {
            let numel = checked_numel(shape, T::DTYPE)?;
            ArrayD::from_shape_vec(IxDyn(shape), try_zeroed_vec(numel, shape)?)
                .map_err(|e| Error::value(e.to_string()))
        }
        Ok(match dtype {
            DType::F32 => Storage::F32(zeroed::<f32>(shape)?.into()),
            DType::F64 => Storage::F64(zeroed::<f64>(shape)?.into()),
        })
    }

    pub fn full(dtype: DType, shape: &[usize], value: f64) -> Result<Storage> {
        Ok(match dtype {
            DType::F32 => Storage::F32(try_full(shape, value as f32)?.into()),
            DType::F64 => Storage::F64(try_full(shape, value)?.into()),
        })
    }

    pub fn scalar(dtype: DType, value: f64) -> Storage {
        match dtype {
            DType::F32 => Storage::F32(ArrayD::from_elem(IxDyn(&[]), value as f32).into()),
            DType::F64 => Storage::F64(ArrayD::from_elem(IxDyn(&[]), value).into()),
        }
    }

    pub fn from_f64_vec(dtype: DType, shape: &[usize], data: Vec<f64>) -> Result<Storage> {
        Ok(match dtype {
            DType::F32 => Storage::F32(
                array_from_vec(shape, data.into_iter().map(|v| v as f32).collect())?.into(),
            ),
            DType::F64 => Storage::F64(array_from_vec(shape, data)?.into()),
        })
    }

    /// Whether the values live in another library's memory (imported through DLPack).
    pub fn is_foreign(&self) -> bool {
        with_storage!(self, a => a.is_foreign())
    }

    /// The same values in C order under another shape with as many elements; no copy unless
    /// the values live in another library's memory.
    pub fn into_shape(self, shape: &[usize]) -> Result<Storage> {
        let reshaped =
            |e: ndarray::ShapeError| Error::value(format!("cannot reshape to {shape:?}: {e}"));
        Ok(match self {
            Storage::F32(a) => Storage::F32(
                a.into_owned()
                    .into_shape_with_order(IxDyn(shape))
                    .map_err(reshaped)?
                    .into(),
            ),
            Storage::F64(a) => Storage::F64(
                a.into_owned()
                    .into_shape_with_order(IxDyn(shape))
                    .map_err(reshaped)?
                    .into(),
            ),
        })
    }

    pub fn dtype(&self) -> DType {
        match self {
            Storage::F32(_) => DType::F32,
            Storage::F64(_) => DType::F64,
        }
    }

    pub fn shape(&self) -> &[usize] {
        with_storage!(self, a => a.shape())
    }

    pub fn ndim(&self) -> usize {
        self.shape().len()
    }

    pub fn len(&self) -> usize {
        with_storage!(self, a => a.len())
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    pub fn typed<T: Element>(&self) -> Result<&ArrayRefD<T>> {
        T::array_of(self).ok_or(Error::DTypeMismatch {
            op: "tensor access",
            expected: T::DTYPE,
            received: self.dtype(),
        })
    }

    pub fn typed_mut<T: Element>(&mut self) -> Result<&mut ArrayRefD<T>> {
        let received = self.dtype();
        T::array_of_mut(self).ok_or(Error::DTypeMismatch {
            op: "tensor access",
            expected: T::DTYPE,
            received,
        })
    }

    pub fn astype(&self, dtype: DType) -> Storage {
        match (self, dtype) {
            (Storage::F32(a), DType::F64) => Storage::F64(a.mapv(|v| v as f64).into()),
            (Storage::F64(a), DType::F32) => Storage::F32(a.mapv(|v| v as f32).into()),
            _ => self.clone(),
        }
    }

    /// The values as `f64` in C order, for conversions and tests.
    pub fn to_f64_vec(&self) -> Vec<f64> {
        with_storage!(self, a => a.iter().map(|v| v.as_f64()).collect())
    }

    /// The value of a one-element storage.
    pub fn item(&self) -> Result<f64> {
        if self.len() != 1 {
            return Err(Error::shape(
                "item",
                format!(
                    "only a one-element tensor converts to a Python number, received shape {:?}",
                    self.shape()
                ),
            ));
        }
        Ok(with_storage!(self, a => a.iter().next().map_or(0.0, |v| v.as_f64())))
    }

    /// `self += other`, for two storages of the same shape and dtype (gradient accumulation).
    pub fn add_assign(&mut self, other: &Storage) -> Result<()> {
        self.check_same_shape(other, "gradient accumulation")?;
        match (self, other) {
            (Storage::F32(a), Storage::F32(b)) => crate::kernels::elementwise::add_assign(a, b),
            (Storage::F64(a), Storage::F64(b)) => crate::kernels::elementwise::add_assign(a, b),
            (a, b) => {
                return Err(Error::DTypeMismatch {
                    op: "gradient accumulation",
                    expected: a.dtype(),
                    received: b.dtype(),
                });
            }
        }
        Ok(())
    }

    /// Overwrites the values with `other`'s, of the same shape and dtype, in place.
    pub fn copy_from(&mut self, other: &Storage) -> Result<()> {
        self.check_same_shape(other, "copy")?;
        match (self, other) {
            (Storage::F32(a), Storage::F32(b)) => a.assign(b),
            (Storage::F64(a), Storage::F64(b)) => a.assign(b),
            (a, b) => {
                return Err(Error::DTypeMismatch {
                    op: "copy",
                    expected: a.dtype(),
                    received: b.dtype(),
                });
            }
        }
        Ok(())
    }

    fn check_same_shape(&self, other: &Storage, op: &'static str) -> Result<()> {
        if self.shape() == other.shape() {
            return Ok(());
        }
        Err(Error::ShapeMismatch {
            op,
            lhs: self.shape().to_vec(),
            rhs: other.shape().to_vec(),
            reason: "differ",
        })
    }

    pub fn fill(&mut self, value: f64) {
        with_storage!(self, a => a.fill(num_traits::NumCast::from(value).unwrap_or_else(num_traits::Zero::zero)))
    }

    pub fn all_finite(&self) -> bool {
        with_storage!(self, a => a.iter().all(|v| v.is_finite()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn zeros_are_zeros_in_reused_memory_of_any_size() {
        // Each size is first filled with ones and freed, so that the allocator may hand the
        // same (dirty) memory back: small blocks are filled inline, large ones come zeroed.
        for len in [0, 3, 1000, (1 << 20) / 4 + 5, 3 << 20] {
            drop(try_full::<f32>(&[len], 1.0).unwrap());
            let zeros = try_zeros::<f32>(&[len]).unwrap();
            assert_eq!(zeros.shape(), &[len]);
            assert!(zeros.iter().all(|&v| v == 0.0), "len {len}");
            drop(try_full::<f64>(&[2, len], -1.0).unwrap());
            let zeros = try_zeros::<f64>(&[2, len]).unwrap();
            assert!(zeros.iter().all(|&v| v == 0.0), "len {len} f64");
        }
    }
}

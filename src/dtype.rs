//! The element types a tensor can hold, and the trait that lets one kernel serve both.

use std::fmt;

use ndarray::{ArrayRefD, ScalarOperand};
use num_traits::Float;

use crate::buffer::Buffer;
use crate::error::{Error, Result};
use crate::storage::Storage;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum DType {
    F32,
    F64,
}

impl DType {
    pub fn name(self) -> &'static str {
        match self {
            DType::F32 => "float32",
            DType::F64 => "float64",
        }
    }

    pub fn parse(name: &str) -> Result<DType> {
        match name {
            "float32" | "f32" => Ok(DType::F32),
            "float64" | "f64" | "double" => Ok(DType::F64),
            other => Err(Error::Type(format!(
                "unknown dtype {other:?}: ferrograd tensors are 'float32' or 'float64'"
            ))),
        }
    }

    /// The dtype two operands are computed in: float64 when either is (numpy's and PyTorch's
    /// rule), so that mixing precisions never silently drops the float64 digits.
    pub fn promote(self, other: DType) -> DType {
        if self == DType::F64 || other == DType::F64 {
            DType::F64
        } else {
            DType::F32
        }
    }

    pub fn size_of(self) -> usize {
        match self {
            DType::F32 => 4,
            DType::F64 => 8,
        }
    }
}

impl fmt::Display for DType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A floating-point element type: `f32` or `f64`.
///
/// Kernels are written once, generic over `Element`; `Storage` picks the instance at run time.
pub trait Element:
    Float
    + ScalarOperand
    + Default
    + Send
    + Sync
    + fmt::Debug
    + fmt::Display
    + std::iter::Sum
    + std::ops::AddAssign
    + std::ops::SubAssign
    + std::ops::MulAssign
    + std::ops::DivAssign
    + 'static
{
    const DTYPE: DType;

    /// The value of an `f64` constant in this type (rounded for `f32`).
    fn of(value: f64) -> Self;
    fn as_f64(self) -> f64;

    /// The error function, for the exact GELU.
    fn erf(self) -> Self;

    /// `C = alpha * A @ B + beta * C` on raw strided matrices (matrixmultiply's contract).
    ///
    /// # Safety
    /// The pointers and strides must describe valid `m x k`, `k x n` and `m x n` matrices, and
    /// `c` must not alias `a` or `b`.
    #[allow(clippy::too_many_arguments)]
    unsafe fn gemm_raw(
        m: usize,
        k: usize,
        n: usize,
        alpha: Self,
        a: *const Self,
        rsa: isize,
        csa: isize,
        b: *const Self,
        rsb: isize,
        csb: isize,
        beta: Self,
        c: *mut Self,
        rsc: isize,
        csc: isize,
    );

    fn into_storage(values: impl Into<Buffer<Self>>) -> Storage;
    fn array_of(storage: &Storage) -> Option<&ArrayRefD<Self>>;
    fn array_of_mut(storage: &mut Storage) -> Option<&mut ArrayRefD<Self>>;
}

impl Element for f32 {
    const DTYPE: DType = DType::F32;

    fn of(value: f64) -> Self {
        value as f32
    }

    fn as_f64(self) -> f64 {
        self as f64
    }

    fn erf(self) -> Self {
        libm::erff(self)
    }

    unsafe fn gemm_raw(
        m: usize,
        k: usize,
        n: usize,
        alpha: f32,
        a: *const f32,
        rsa: isize,
        csa: isize,
        b: *const f32,
        rsb: isize,
        csb: isize,
        beta: f32,
        c: *mut f32,
        rsc: isize,
        csc: isize,
    ) {
        // SAFETY: forwarded from the caller's contract.
        unsafe {
            matrixmultiply::sgemm(m, k, n, alpha, a, rsa, csa, b, rsb, csb, beta, c, rsc, csc)
        }
    }

    fn into_storage(values: impl Into<Buffer<f32>>) -> Storage {
        Storage::F32(values.into())
    }

    fn array_of(storage: &Storage) -> Option<&ArrayRefD<f32>> {
        match storage {
            Storage::F32(a) => Some(&**a),
            _ => None,
        }
    }

    fn array_of_mut(storage: &mut Storage) -> Option<&mut ArrayRefD<f32>> {
        match storage {
            Storage::F32(a) => Some(&mut **a),
            _ => None,
        }
    }
}

impl Element for f64 {
    const DTYPE: DType = DType::F64;

    fn of(value: f64) -> Self {
        value
    }

    fn as_f64(self) -> f64 {
        self
    }

    fn erf(self) -> Self {
        libm::erf(self)
    }

    unsafe fn gemm_raw(
        m: usize,
        k: usize,
        n: usize,
        alpha: f64,
        a: *const f64,
        rsa: isize,
        csa: isize,
        b: *const f64,
        rsb: isize,
        csb: isize,
        beta: f64,
        c: *mut f64,
        rsc: isize,
        csc: isize,
    ) {
        // SAFETY: forwarded from the caller's contract.
        unsafe {
            matrixmultiply::dgemm(m, k, n, alpha, a, rsa, csa, b, rsb, csb, beta, c, rsc, csc)
        }
    }

    fn into_storage(values: impl Into<Buffer<f64>>) -> Storage {
        Storage::F64(values.into())
    }

    fn array_of(storage: &Storage) -> Option<&ArrayRefD<f64>> {
        match storage {
            Storage::F64(a) => Some(&**a),
            _ => None,
        }
    }

    fn array_of_mut(storage: &mut Storage) -> Option<&mut ArrayRefD<f64>> {
        match storage {
            Storage::F64(a) => Some(&mut **a),
            _ => None,
        }
    }
}

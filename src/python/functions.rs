//! Module-level functions: tensor creation, seeding, threads, grad mode, joins.

use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use pyo3::types::PyTuple;

use super::convert::{parse_dtype, shape_from_args, to_storage};
use super::errors::guarded;
use super::tensor::{PyTensor, tensor_arg};
use crate::creation;
use crate::dtype::DType;
use crate::tensor::Tensor;
use crate::{autograd, ops, parallel, rng};

fn leaf(tensor: Tensor, requires_grad: bool) -> PyResult<PyTensor> {
    tensor.set_requires_grad(requires_grad)?;
    Ok(PyTensor::wrap(tensor))
}

/// A tensor from a numpy array, a list or a number (float32 unless `dtype` says otherwise).
#[pyfunction]
#[pyo3(signature = (data, dtype=None, requires_grad=false))]
fn tensor(
    data: &Bound<'_, PyAny>,
    dtype: Option<&Bound<'_, PyAny>>,
    requires_grad: bool,
) -> PyResult<PyTensor> {
    let dtype = parse_dtype(dtype)?;
    guarded(|| {
        Ok(PyTensor::wrap(Tensor::new(
            to_storage(data, dtype)?,
            requires_grad,
        )))
    })
}

#[pyfunction]
#[pyo3(signature = (*shape, dtype=None, requires_grad=false))]
fn zeros(
    shape: &Bound<'_, PyTuple>,
    dtype: Option<&Bound<'_, PyAny>>,
    requires_grad: bool,
) -> PyResult<PyTensor> {
    full_impl(shape, 0.0, dtype, requires_grad)
}

#[pyfunction]
#[pyo3(signature = (*shape, dtype=None, requires_grad=false))]
fn ones(
    shape: &Bound<'_, PyTuple>,
    dtype: Option<&Bound<'_, PyAny>>,
    requires_grad: bool,
) -> PyResult<PyTensor> {
    full_impl(shape, 1.0, dtype, requires_grad)
}

#[pyfunction]
#[pyo3(signature = (shape, fill_value, dtype=None, requires_grad=false))]
fn full(
    shape: &Bound<'_, PyAny>,
    fill_value: f64,
    dtype: Option<&Bound<'_, PyAny>>,
    requires_grad: bool,
) -> PyResult<PyTensor> {
    let shape = PyTuple::new(shape.py(), [shape])?;
    full_impl(&shape, fill_value, dtype, requires_grad)
}

fn full_impl(
    shape: &Bound<'_, PyTuple>,
    value: f64,
    dtype: Option<&Bound<'_, PyAny>>,
    requires_grad: bool,
) -> PyResult<PyTensor> {
    let (shape, dtype) = (shape_from_args(shape)?, parse_dtype(dtype)?);
    guarded(|| leaf(Tensor::full(&shape, value, dtype)?, requires_grad))
}

/// Samples of the standard normal distribution, from the seeded generator.
#[pyfunction]
#[pyo3(signature = (*shape, dtype=None, requires_grad=false))]
fn randn(
    shape: &Bound<'_, PyTuple>,
    dtype: Option<&Bound<'_, PyAny>>,
    requires_grad: bool,
) -> PyResult<PyTensor> {
    let (shape, dtype) = (shape_from_args(shape)?, parse_dtype(dtype)?);
    guarded(|| leaf(creation::randn(&shape, dtype)?, requires_grad))
}

/// Uniform samples in [0, 1), from the seeded generator.
#[pyfunction]
#[pyo3(name = "rand", signature = (*shape, dtype=None, requires_grad=false))]
fn rand_uniform(
    shape: &Bound<'_, PyTuple>,
    dtype: Option<&Bound<'_, PyAny>>,
    requires_grad: bool,
) -> PyResult<PyTensor> {
    let (shape, dtype) = (shape_from_args(shape)?, parse_dtype(dtype)?);
    guarded(|| leaf(creation::uniform(&shape, 0.0, 1.0, dtype)?, requires_grad))
}

/// `arange(stop)` or `arange(start, stop, step)`, like numpy.
#[pyfunction]
#[pyo3(signature = (start, stop=None, step=1.0, dtype=None, requires_grad=false))]
fn arange(
    start: f64,
    stop: Option<f64>,
    step: f64,
    dtype: Option<&Bound<'_, PyAny>>,
    requires_grad: bool,
) -> PyResult<PyTensor> {
    let (start, stop) = match stop {
        Some(stop) => (start, stop),
        None => (0.0, start),
    };
    let dtype = parse_dtype(dtype)?;
    guarded(|| leaf(creation::arange(start, stop, step, dtype)?, requires_grad))
}

/// Seeds the library's generator: initialisation, shuffling and dropout become repeatable.
#[pyfunction]
fn set_seed(seed: &Bound<'_, PyAny>) -> PyResult<()> {
    // Taken as any object so that a negative or oversized seed is a ValueError naming it, not
    // the OverflowError of converting to an unsigned integer.
    if seed.is_instance_of::<pyo3::types::PyBool>() {
        return Err(pyo3::exceptions::PyTypeError::new_err(
            "set_seed: seed must be an integer, received a bool",
        ));
    }
    let value = seed.extract::<u64>().map_err(|_| {
        if seed.is_instance_of::<pyo3::types::PyInt>() {
            PyValueError::new_err(format!(
                "set_seed: seed must be an integer in [0, 2**64), received seed={seed}"
            ))
        } else {
            pyo3::exceptions::PyTypeError::new_err(format!(
                "set_seed: seed must be an integer, received {seed:?}"
            ))
        }
    })?;
    rng::set_seed(value);
    Ok(())
}

/// Sets how many threads the kernels use (the default is the machine's cores, or
/// `FERROGRAD_NUM_THREADS`).
#[pyfunction]
fn set_num_threads(n: i64) -> PyResult<()> {
    // Taken as a signed integer so that a negative count is a ValueError naming it, not the
    // OverflowError of converting to an unsigned one.
    let count = usize::try_from(n).map_err(|_| {
        PyValueError::new_err(format!(
            "set_num_threads: expected a positive count, received {n}"
        ))
    })?;
    Ok(parallel::set_num_threads(count)?)
}

#[pyfunction]
fn get_num_threads() -> usize {
    parallel::num_threads()
}

#[pyfunction]
fn is_grad_enabled() -> bool {
    autograd::is_grad_enabled()
}

/// Sets this thread's grad mode and returns the previous one (used by `no_grad`).
#[pyfunction]
fn _set_grad_enabled(enabled: bool) -> bool {
    autograd::set_grad_enabled(enabled)
}

fn tensors_arg(items: &Bound<'_, PyAny>) -> PyResult<Vec<Tensor>> {
    let items: Vec<Bound<'_, PyAny>> = items.try_iter()?.collect::<PyResult<_>>()?;
    let dtype = items
        .iter()
        .find_map(|i| i.cast::<PyTensor>().ok().map(|t| t.get().inner.dtype()))
        .unwrap_or(DType::F32);
    items.iter().map(|i| tensor_arg(i, dtype)).collect()
}

#[pyfunction]
#[pyo3(signature = (tensors, axis=0))]
fn concat(tensors: &Bound<'_, PyAny>, axis: isize) -> PyResult<PyTensor> {
    let tensors = tensors_arg(tensors)?;
    guarded(|| Ok(PyTensor::wrap(ops::join::concat(&tensors, axis)?)))
}

#[pyfunction]
#[pyo3(signature = (tensors, axis=0))]
fn stack(tensors: &Bound<'_, PyAny>, axis: isize) -> PyResult<PyTensor> {
    let tensors = tensors_arg(tensors)?;
    guarded(|| Ok(PyTensor::wrap(ops::join::stack(&tensors, axis)?)))
}

/// `x` where `condition` holds (is nonzero), `y` elsewhere, broadcast together.
#[pyfunction]
#[pyo3(name = "where")]
fn where_(
    condition: &Bound<'_, PyAny>,
    x: &Bound<'_, PyAny>,
    y: &Bound<'_, PyAny>,
) -> PyResult<PyTensor> {
    let dtype = [x, y]
        .iter()
        .find_map(|i| i.cast::<PyTensor>().ok().map(|t| t.get().inner.dtype()))
        .unwrap_or(DType::F32);
    let (condition, x, y) = (
        tensor_arg(condition, dtype)?,
        tensor_arg(x, dtype)?,
        tensor_arg(y, dtype)?,
    );
    guarded(|| Ok(PyTensor::wrap(ops::compare::where_(&condition, &x, &y)?)))
}

/// Samples of "normal", "uniform" or "truncated_normal" (parameters `a`, `b`: the mean and
/// standard deviation, or the bounds), from the global generator or from one seeded by
/// `seed`. Used by `ferrograd.random`.
#[pyfunction]
#[pyo3(signature = (distribution, shape, a, b, dtype=None, seed=None))]
fn _random(
    distribution: &str,
    shape: Vec<usize>,
    a: f64,
    b: f64,
    dtype: Option<&Bound<'_, PyAny>>,
    seed: Option<u64>,
) -> PyResult<PyTensor> {
    use creation::RandomDistribution as D;
    let distribution = match distribution {
        "normal" => D::Normal { mean: a, stddev: b },
        "uniform" => D::Uniform { low: a, high: b },
        "truncated_normal" => D::TruncatedNormal { mean: a, stddev: b },
        other => {
            return Err(PyValueError::new_err(format!(
                "unknown distribution {other:?}"
            )));
        }
    };
    let dtype = parse_dtype(dtype)?;
    guarded(|| {
        Ok(PyTensor::wrap(creation::sample(
            distribution,
            &shape,
            dtype,
            seed,
        )?))
    })
}

/// A seed drawn from the library's generator (follows `set_seed`).
#[pyfunction]
fn _draw_seed() -> u64 {
    creation::draw_seed()
}

pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(_random, m)?)?;
    m.add_function(wrap_pyfunction!(_draw_seed, m)?)?;
    m.add_function(wrap_pyfunction!(tensor, m)?)?;
    m.add_function(wrap_pyfunction!(zeros, m)?)?;
    m.add_function(wrap_pyfunction!(ones, m)?)?;
    m.add_function(wrap_pyfunction!(full, m)?)?;
    m.add_function(wrap_pyfunction!(randn, m)?)?;
    m.add_function(wrap_pyfunction!(rand_uniform, m)?)?;
    m.add_function(wrap_pyfunction!(arange, m)?)?;
    m.add_function(wrap_pyfunction!(set_seed, m)?)?;
    m.add_function(wrap_pyfunction!(set_num_threads, m)?)?;
    m.add_function(wrap_pyfunction!(get_num_threads, m)?)?;
    m.add_function(wrap_pyfunction!(is_grad_enabled, m)?)?;
    m.add_function(wrap_pyfunction!(_set_grad_enabled, m)?)?;
    m.add_function(wrap_pyfunction!(concat, m)?)?;
    m.add_function(wrap_pyfunction!(stack, m)?)?;
    m.add_function(wrap_pyfunction!(where_, m)?)?;
    Ok(())
}

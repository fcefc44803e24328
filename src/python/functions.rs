//! Module-level functions: tensor creation, seeding, threads, grad mode, joins.

use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use pyo3::types::PyTuple;

use super::convert::{parse_dtype, shape_from_args, to_storage};
use super::errors::guarded;
use super::tensor::{PyTensor, run_op, tensor_arg};
use crate::creation;
use crate::dtype::DType;
use crate::nn::PrimitiveOp;
use crate::tensor::Tensor;
use crate::{autograd, parallel, rng};

fn leaf(tensor: Tensor, requires_grad: bool) -> PyResult<PyTensor> {
    tensor.set_requires_grad(requires_grad)?;
    Ok(PyTensor::wrap(tensor))
}

/// A tensor from a numpy array, a list or a number (float32 unless ``dtype`` says otherwise).
///
/// Like ``torch.tensor``: the values are copied.
///
/// Args:
///     data: a numpy array, a (nested) list of numbers, a number, or a tensor.
///     dtype: ``"float32"`` or ``"float64"`` (or the numpy dtypes); None means float32
///         (default None).
///     requires_grad: record the operations made with the tensor, for ``backward``
///         (default False).
///
/// Returns:
///     A new leaf tensor.
///
/// Raises:
///     TypeError: ragged lists, values that are not numbers, or an unknown dtype.
///
/// Examples:
///     >>> fg.tensor([[1, 2], [3, 4]])
///     tensor([[1., 2.],
///             [3., 4.]], shape=(2, 2), dtype=float32)
///     >>> fg.tensor(np.arange(3.0), dtype="float64", requires_grad=True).requires_grad
///     True
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

/// A tensor of zeros of the given shape, as ``torch.zeros``.
///
/// Args:
///     *shape: the dimensions, as separate ints or one tuple or list: ``zeros(2, 3)`` or
///         ``zeros((2, 3))``.
///     dtype: ``"float32"`` or ``"float64"`` (or the numpy dtypes); None means float32
///         (default None).
///     requires_grad: record the operations made with the tensor, for ``backward``
///         (default False).
///
/// Returns:
///     A new leaf tensor.
///
/// Raises:
///     ValueError: a negative dimension.
///     TypeError: an unknown dtype.
///
/// Examples:
///     >>> fg.zeros(2, 3)
///     tensor([[0., 0., 0.],
///             [0., 0., 0.]], shape=(2, 3), dtype=float32)
#[pyfunction]
#[pyo3(signature = (*shape, dtype=None, requires_grad=false))]
fn zeros(
    shape: &Bound<'_, PyTuple>,
    dtype: Option<&Bound<'_, PyAny>>,
    requires_grad: bool,
) -> PyResult<PyTensor> {
    full_impl(shape, 0.0, dtype, requires_grad)
}

/// A tensor of ones of the given shape, as ``torch.ones``.
///
/// Args:
///     *shape: the dimensions, as separate ints or one tuple or list: ``ones(2, 3)`` or
///         ``ones((2, 3))``.
///     dtype: ``"float32"`` or ``"float64"`` (or the numpy dtypes); None means float32
///         (default None).
///     requires_grad: record the operations made with the tensor, for ``backward``
///         (default False).
///
/// Returns:
///     A new leaf tensor.
///
/// Raises:
///     ValueError: a negative dimension.
///     TypeError: an unknown dtype.
///
/// Examples:
///     >>> fg.ones((2,), dtype="float64")
///     tensor([1., 1.], shape=(2,), dtype=float64)
#[pyfunction]
#[pyo3(signature = (*shape, dtype=None, requires_grad=false))]
fn ones(
    shape: &Bound<'_, PyTuple>,
    dtype: Option<&Bound<'_, PyAny>>,
    requires_grad: bool,
) -> PyResult<PyTensor> {
    full_impl(shape, 1.0, dtype, requires_grad)
}

/// A tensor of the given shape with every element ``fill_value``, as ``torch.full``.
///
/// Args:
///     shape: the dimensions, an int or a tuple or list of ints.
///     fill_value: the value of every element.
///     dtype: ``"float32"`` or ``"float64"`` (or the numpy dtypes); None means float32
///         (default None).
///     requires_grad: record the operations made with the tensor, for ``backward``
///         (default False).
///
/// Returns:
///     A new leaf tensor.
///
/// Raises:
///     ValueError: a negative dimension.
///     TypeError: an unknown dtype.
///
/// Examples:
///     >>> fg.full((2, 2), 7.0)
///     tensor([[7., 7.],
///             [7., 7.]], shape=(2, 2), dtype=float32)
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
    if requires_grad {
        return guarded(|| leaf(Tensor::full(&shape, value, dtype)?, true));
    }
    // Recorded as an op, so that a tensor made in a traced `call()` from the batch size
    // follows the batch size of each pass.
    let op = PrimitiveOp::Full {
        shape,
        value,
        dtype: dtype.name().to_string(),
        batch_axes: Vec::new(),
    };
    run_op(op, &[])
}

/// Samples of the standard normal distribution, from the seeded generator (``torch.randn``).
///
/// ``fg.set_seed`` makes the draws repeatable.
///
/// Args:
///     *shape: the dimensions, as separate ints or one tuple or list: ``randn(2, 3)`` or
///         ``randn((2, 3))``.
///     dtype: ``"float32"`` or ``"float64"`` (or the numpy dtypes); None means float32
///         (default None).
///     requires_grad: record the operations made with the tensor, for ``backward``
///         (default False).
///
/// Returns:
///     A new leaf tensor.
///
/// Raises:
///     ValueError: a negative dimension.
///     TypeError: an unknown dtype.
///
/// Examples:
///     >>> fg.set_seed(0)
///     >>> a = fg.randn(2, 3)
///     >>> fg.set_seed(0)
///     >>> bool((fg.randn(2, 3) == a).numpy().all())
///     True
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

/// Uniform samples in [0, 1), from the seeded generator (``torch.rand``).
///
/// ``fg.set_seed`` makes the draws repeatable.
///
/// Args:
///     *shape: the dimensions, as separate ints or one tuple or list: ``rand(2, 3)`` or
///         ``rand((2, 3))``.
///     dtype: ``"float32"`` or ``"float64"`` (or the numpy dtypes); None means float32
///         (default None).
///     requires_grad: record the operations made with the tensor, for ``backward``
///         (default False).
///
/// Returns:
///     A new leaf tensor.
///
/// Raises:
///     ValueError: a negative dimension.
///     TypeError: an unknown dtype.
///
/// Examples:
///     >>> fg.set_seed(0)
///     >>> u = fg.rand(1000)
///     >>> bool(((u >= 0.0) * (u < 1.0)).numpy().all())
///     True
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

/// Evenly spaced values: ``arange(stop)`` or ``arange(start, stop, step)``, like numpy.
///
/// The values run from ``start`` (included) to ``stop`` (excluded).
///
/// Args:
///     start: the first value; with no ``stop``, the end (and the start is 0).
///     stop: the end, excluded (default None).
///     step: the spacing, not 0 (default 1.0).
///     dtype: ``"float32"`` or ``"float64"`` (or the numpy dtypes); None means float32
///         (default None).
///     requires_grad: record the operations made with the tensor, for ``backward``
///         (default False).
///
/// Returns:
///     A new 1-D leaf tensor.
///
/// Raises:
///     ValueError: a step of 0 or bounds that are not finite.
///     TypeError: an unknown dtype.
///
/// Examples:
///     >>> fg.arange(4)
///     tensor([0., 1., 2., 3.], shape=(4,), dtype=float32)
///     >>> fg.arange(1, 2, 0.25)
///     tensor([1.  , 1.25, 1.5 , 1.75], shape=(4,), dtype=float32)
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
///
/// Runs are bit-identical for a seed on any number of threads (as ``keras.utils.set_random_seed``).
///
/// Args:
///     seed: an integer in [0, 2**64).
///
/// Raises:
///     ValueError: a negative or too large seed.
///     TypeError: a seed that is not an integer (a bool included).
///
/// Examples:
///     >>> fg.set_seed(42)
///     >>> first = fg.rand(3).tolist()
///     >>> fg.set_seed(42)
///     >>> fg.rand(3).tolist() == first
///     True
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

/// A 64-bit integer drawn from the library's generator (so it follows `set_seed`): the seed of
/// one `fit` run's shuffling and dropout, which `BackupAndRestore` keeps to resume the run.
#[pyfunction]
fn random_seed() -> u64 {
    rng::with_rng(rand::Rng::next_u64)
}

/// Sets how many threads the kernels use (the default is the machine's cores, or
/// ``FERROGRAD_NUM_THREADS``).
///
/// Results do not depend on the count: the kernels split work the same way on any number of threads.
///
/// Args:
///     n: the number of threads, from 1 to 256.
///
/// Raises:
///     ValueError: a count outside 1 to 256.
///
/// Examples:
///     >>> previous = fg.get_num_threads()
///     >>> fg.set_num_threads(1)
///     >>> fg.get_num_threads()
///     1
///     >>> fg.set_num_threads(previous)
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

/// The number of threads the kernels use (``torch.get_num_threads``).
///
/// Returns:
///     The count, at least 1.
///
/// Examples:
///     >>> fg.get_num_threads() >= 1
///     True
#[pyfunction]
fn get_num_threads() -> usize {
    parallel::num_threads()
}

/// Whether this thread records operations for ``backward`` (False inside ``fg.no_grad()``).
///
/// Returns:
///     True unless grad mode was turned off, as ``torch.is_grad_enabled``.
///
/// Examples:
///     >>> fg.is_grad_enabled()
///     True
///     >>> with fg.no_grad():
///     ...     print(fg.is_grad_enabled())
///     False
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

/// Joins tensors along an existing axis (``keras.ops.concatenate``, ``torch.cat``).
///
/// Args:
///     tensors: a sequence of tensors (or array-likes) whose shapes match except along ``axis``.
///     axis: the axis to join along; negative counts from the end (default 0).
///
/// Returns:
///     A new tensor; gradients flow back to each input.
///
/// Raises:
///     ValueError: an empty sequence, shapes that do not match, or an axis out of range.
///
/// Examples:
///     >>> fg.concat([fg.ones(1, 2), fg.zeros(2, 2)])
///     tensor([[1., 1.],
///             [0., 0.],
///             [0., 0.]], shape=(3, 2), dtype=float32)
///     >>> fg.concat([fg.ones(2, 1), fg.zeros(2, 1)], axis=1).shape
///     (2, 2)
#[pyfunction]
#[pyo3(signature = (tensors, axis=0))]
fn concat(tensors: &Bound<'_, PyAny>, axis: isize) -> PyResult<PyTensor> {
    let tensors = tensors_arg(tensors)?;
    run_op(PrimitiveOp::Concat { axis }, &tensors)
}

/// Stacks tensors of one shape along a new axis (``keras.ops.stack``, ``torch.stack``).
///
/// Args:
///     tensors: a sequence of tensors (or array-likes) of the same shape.
///     axis: the position of the new axis; negative counts from the end (default 0).
///
/// Returns:
///     A new tensor with one more axis; gradients flow back to each input.
///
/// Raises:
///     ValueError: an empty sequence, shapes that differ, or an axis out of range.
///
/// Examples:
///     >>> fg.stack([fg.ones(3), fg.zeros(3)]).shape
///     (2, 3)
///     >>> fg.stack([fg.ones(3), fg.zeros(3)], axis=-1).shape
///     (3, 2)
#[pyfunction]
#[pyo3(signature = (tensors, axis=0))]
fn stack(tensors: &Bound<'_, PyAny>, axis: isize) -> PyResult<PyTensor> {
    let tensors = tensors_arg(tensors)?;
    run_op(PrimitiveOp::Stack { axis }, &tensors)
}

/// ``x`` where ``condition`` holds (is nonzero), ``y`` elsewhere, broadcast together.
///
/// As ``torch.where`` and ``keras.ops.where`` with three arguments; gradients flow to ``x``
/// and ``y``.
///
/// Args:
///     condition: a tensor, array-like or number; nonzero means true.
///     x: the values where the condition holds (a tensor, array-like or number).
///     y: the values elsewhere (a tensor, array-like or number).
///
/// Returns:
///     A tensor of the broadcast shape, of the dtype of the tensors among ``x`` and ``y``
///     (float32 when neither is one).
///
/// Raises:
///     ValueError: shapes that do not broadcast.
///
/// Examples:
///     >>> t = fg.tensor([-1.0, 2.0, -3.0])
///     >>> fg.where(t > 0, t, 0.0)
///     tensor([0., 2., 0.], shape=(3,), dtype=float32)
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
    run_op(PrimitiveOp::Where, &[condition, x, y])
}

/// Samples of "normal", "uniform" or "truncated_normal" (parameters `a`, `b`: the mean and
/// standard deviation, or the bounds), from the global generator or from one seeded by
/// `seed`. Used by `ferrograd.random`. `fresh_when_traced`: the seed came from a
/// `SeedGenerator` (or none was given), so a traced call draws new values at each pass instead
/// of replaying this seed.
#[pyfunction]
#[pyo3(signature = (distribution, shape, a, b, dtype=None, seed=None, fresh_when_traced=false))]
#[allow(clippy::too_many_arguments)]
fn _random(
    distribution: &str,
    shape: Vec<usize>,
    a: f64,
    b: f64,
    dtype: Option<&Bound<'_, PyAny>>,
    seed: Option<u64>,
    fresh_when_traced: bool,
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
    let output = guarded(|| Ok(creation::sample(distribution, &shape, dtype, seed)?))?;
    let (a, b, name) = match distribution {
        D::Normal { mean, stddev } => (mean, stddev, "normal"),
        D::Uniform { low, high } => (low, high, "uniform"),
        D::TruncatedNormal { mean, stddev } => (mean, stddev, "truncated_normal"),
    };
    let op = PrimitiveOp::Random {
        distribution: name.to_string(),
        shape,
        a,
        b,
        dtype: dtype.name().to_string(),
        seed: if fresh_when_traced { None } else { seed },
        batch_axes: Vec::new(),
    };
    crate::trace::record_op(&op, &[], &output);
    Ok(PyTensor::wrap(output))
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
    m.add_function(wrap_pyfunction!(random_seed, m)?)?;
    m.add_function(wrap_pyfunction!(set_num_threads, m)?)?;
    m.add_function(wrap_pyfunction!(get_num_threads, m)?)?;
    m.add_function(wrap_pyfunction!(is_grad_enabled, m)?)?;
    m.add_function(wrap_pyfunction!(_set_grad_enabled, m)?)?;
    m.add_function(wrap_pyfunction!(concat, m)?)?;
    m.add_function(wrap_pyfunction!(stack, m)?)?;
    m.add_function(wrap_pyfunction!(where_, m)?)?;
    Ok(())
}

//! The Python `Tensor` class.

use std::sync::atomic::{AtomicUsize, Ordering};

use numpy::{PyArrayDescrMethods, PyUntypedArrayMethods};
use pyo3::exceptions::{PyTypeError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyList, PySlice, PyTuple};

use super::convert::{
    Operand, as_numeric_array, parse_dtype, storage_to_numpy, to_operand, to_storage, type_name,
};
use super::dlpack;
use super::errors::guarded;
use crate::nn::{OpEnv, PrimitiveOp};
use crate::ops::binary::BinaryOp;
use crate::ops::compare::Comparison;
use crate::ops::index::IndexItem;
use crate::ops::unary::UnaryFn;
use crate::tensor::Tensor;
use crate::trace;

/// An n-dimensional array of float32 or float64 values that can record the operations made
/// with it and backpropagate through them.
///
/// ``Tensor(data)`` is ``fg.tensor(data)``. Arithmetic (``+ - * / ** @``), comparisons,
/// indexing and numpy conversion (``np.asarray(t)``) work as with ``torch.Tensor``.
///
/// Args:
///     data: a numpy array, a (nested) list of numbers, a number, or a tensor (copied).
///     dtype: ``"float32"`` or ``"float64"`` (or the numpy dtypes); None means float32
///         (default None).
///     requires_grad: record the operations made with the tensor, for ``backward``
///         (default False).
///
/// Raises:
///     TypeError: ragged lists, values that are not numbers, or an unknown dtype.
///
/// Examples:
///     >>> t = fg.Tensor([[1.0, 2.0]], requires_grad=True)
///     >>> t.shape, t.dtype
///     ((1, 2), dtype('float32'))
///     >>> (t * 3).sum().backward()
///     >>> t.grad
///     tensor([[3., 3.]], shape=(1, 2), dtype=float32)
#[pyclass(name = "Tensor", module = "ferrograd", frozen, weakref)]
pub struct PyTensor {
    pub inner: Tensor,
}

impl PyTensor {
    pub fn wrap(inner: Tensor) -> PyTensor {
        PyTensor { inner }
    }
}

/// Runs `op` on `args`, noting it in the trace being recorded, if any (see `crate::trace`):
/// every tensor op made from Python goes through here, so that a traced `call()` replays the
/// very ops it ran.
pub fn run_op(op: PrimitiveOp, args: &[Tensor]) -> PyResult<PyTensor> {
    guarded(|| {
        let output = op.apply(args, &mut OpEnv::default())?;
        trace::record_op(&op, args, &output);
        Ok(PyTensor::wrap(output))
    })
}

fn binary_with(
    op: BinaryOp,
    tensor: &Tensor,
    other: &Bound<'_, PyAny>,
    reflected: bool,
) -> PyResult<PyTensor> {
    match to_operand(other, tensor)? {
        Operand::Scalar(value) => run_op(
            PrimitiveOp::WithScalar {
                op,
                value,
                reflected,
            },
            std::slice::from_ref(tensor),
        ),
        Operand::Tensor(t) if reflected => run_op(PrimitiveOp::Binary { op }, &[t, tensor.clone()]),
        Operand::Tensor(t) => run_op(PrimitiveOp::Binary { op }, &[tensor.clone(), t]),
    }
}

fn axes_arg(axis: Option<&Bound<'_, PyAny>>) -> PyResult<Option<Vec<isize>>> {
    match axis {
        None => Ok(None),
        Some(a) if a.is_none() => Ok(None),
        Some(a) => match a.extract::<isize>() {
            Ok(single) => Ok(Some(vec![single])),
            Err(_) => a.extract::<Vec<isize>>().map(Some).map_err(|_| {
                PyTypeError::new_err(format!(
                    "axis must be None, an int or a tuple of ints, received {a}"
                ))
            }),
        },
    }
}

/// The axis of a PyTorch-style method, given as `axis=` (numpy, Keras) or `dim=` (PyTorch).
fn axis_or_dim<'a, 'py>(
    axis: Option<&'a Bound<'py, PyAny>>,
    dim: Option<&'a Bound<'py, PyAny>>,
) -> PyResult<Option<Vec<isize>>> {
    match (axes_arg(axis)?, axes_arg(dim)?) {
        (Some(_), Some(_)) => Err(PyTypeError::new_err(
            "pass the axis as axis= or as dim=, not both",
        )),
        (a, d) => Ok(a.or(d)),
    }
}

/// A single axis (argmax, cumsum), or None.
fn single_axis(axes: Option<Vec<isize>>, op: &str) -> PyResult<Option<isize>> {
    match axes.as_deref() {
        None => Ok(None),
        Some([axis]) => Ok(Some(*axis)),
        Some(many) => Err(PyValueError::new_err(format!(
            "{op}: expected a single axis, received {many:?}"
        ))),
    }
}

/// `reshape(2, 3)` and `reshape((2, 3))` both work, as in numpy and PyTorch.
fn dims_arg(args: &Bound<'_, PyTuple>) -> PyResult<Vec<isize>> {
    if args.len() == 1 {
        let first = args.get_item(0)?;
        if first.is_instance_of::<PyTuple>() || first.is_instance_of::<PyList>() {
            return first.extract();
        }
    }
    args.extract()
}

fn parse_index_item(item: &Bound<'_, PyAny>) -> PyResult<IndexItem> {
    let py = item.py();
    if item.is_none() {
        return Ok(IndexItem::NewAxis);
    }
    if item.is(py.Ellipsis()) {
        return Ok(IndexItem::Ellipsis);
    }
    if let Ok(slice) = item.cast::<PySlice>() {
        let bound = |name: &str| -> PyResult<Option<isize>> {
            let value = slice.getattr(name)?;
            if value.is_none() {
                return Ok(None);
            }
            if let Ok(bound) = value.extract::<isize>() {
                return Ok(Some(bound));
            }
            // A bound beyond the machine's integers (`t[0:2**70]`) is clamped, as numpy does;
            // no axis is that long.
            if value.is_instance_of::<pyo3::types::PyInt>() {
                let negative = value.lt(0)?;
                return Ok(Some(if negative { isize::MIN } else { isize::MAX }));
            }
            Err(PyTypeError::new_err(format!(
                "slice indices must be integers or None, received {} {}",
                type_name(&value),
                value.repr()?
            )))
        };
        return Ok(IndexItem::Slice {
            start: bound("start")?,
            stop: bound("stop")?,
            step: bound("step")?,
        });
    }
    if item.is_instance_of::<pyo3::types::PyBool>() {
        return Err(PyTypeError::new_err(
            "boolean scalars are not valid indices",
        ));
    }
    if item.is_instance_of::<pyo3::types::PyInt>() {
        return match item.extract::<isize>() {
            Ok(i) => Ok(IndexItem::Int(i)),
            // No axis is that long: out of bounds, as numpy says, not an overflow.
            Err(_) => Err(pyo3::exceptions::PyIndexError::new_err(format!(
                "index {} is out of bounds: no axis has that many elements",
                item.repr()?
            ))),
        };
    }
    if let Ok(i) = item.extract::<isize>() {
        return Ok(IndexItem::Int(i));
    }
    if item.is_instance_of::<pyo3::types::PyString>()
        || item.is_instance_of::<pyo3::types::PyBytes>()
        || item.is_instance_of::<pyo3::types::PyFloat>()
    {
        return Err(PyTypeError::new_err(format!(
            "only integers, slices (`:`), ellipsis (`...`), None and integer or boolean arrays \
             are valid indices; received {} {}",
            type_name(item),
            item.repr()?
        )));
    }
    // Tensors hold floats, so a tensor index would be ambiguous: a comparison gives a 0/1
    // tensor, which read as positions would gather rows 0 and 1 instead of masking.
    if let Ok(tensor) = item.cast::<PyTensor>() {
        return Err(PyTypeError::new_err(format!(
            "a Tensor cannot be an index, since its float values could mean positions or a mask \
             (comparisons give 0/1 tensors); pass t.numpy().astype(bool) for a mask or \
             t.numpy().astype(int) for positions. Received a tensor of shape {:?}",
            tensor.get().inner.shape()
        )));
    }
    // An integer array (a gather along this axis) or a boolean mask (over as many axes as it
    // has dimensions).
    let array = as_numeric_array(item)?;
    let kind = array.dtype().kind();
    if kind == b'b' {
        if array.ndim() == 0 {
            return Err(PyTypeError::new_err(
                "boolean scalars are not valid indices",
            ));
        }
        let flat = array.call_method1("reshape", (-1,))?;
        return Ok(IndexItem::Mask {
            shape: array.shape().to_vec(),
            values: flat.call_method0("tolist")?.extract()?,
        });
    }
    // numpy reads an empty list as no positions, though `np.asarray([])` is float64.
    let integral = matches!(kind, b'i' | b'u') || array.len() == 0;
    if !integral {
        return Err(PyTypeError::new_err(format!(
            "only integers, slices, None, ..., and integer or boolean arrays are valid \
             indices; received an array of dtype {}",
            array.dtype()
        )));
    }
    if array.ndim() != 1 {
        return Err(PyValueError::new_err(format!(
            "integer index arrays must be one-dimensional (x[idx] gathers along one axis); \
             received an array of shape {:?}",
            array.shape()
        )));
    }
    let positions = array.call_method1("astype", ("int64",))?;
    Ok(IndexItem::Array(
        positions.call_method0("tolist")?.extract()?,
    ))
}

#[pymethods]
impl PyTensor {
    /// numpy defers binary operators with a tensor on the right to the tensor's reflected
    /// methods.
    #[classattr]
    fn __array_ufunc__(py: Python<'_>) -> Py<PyAny> {
        py.None()
    }

    #[new]
    #[pyo3(signature = (data, dtype=None, requires_grad=false))]
    fn py_new(
        data: &Bound<'_, PyAny>,
        dtype: Option<&Bound<'_, PyAny>>,
        requires_grad: bool,
    ) -> PyResult<Self> {
        let dtype = parse_dtype(dtype)?;
        guarded(|| {
            Ok(PyTensor::wrap(Tensor::new(
                to_storage(data, dtype)?,
                requires_grad,
            )))
        })
    }

    #[getter]
    fn shape<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyTuple>> {
        PyTuple::new(py, self.inner.shape())
    }

    #[getter]
    fn dtype<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        py.import("numpy")?
            .call_method1("dtype", (self.inner.dtype().name(),))
    }

    #[getter]
    fn ndim(&self) -> usize {
        self.inner.ndim()
    }

    #[getter]
    fn size(&self) -> usize {
        self.inner.numel()
    }

    #[getter]
    fn requires_grad(&self) -> bool {
        self.inner.requires_grad()
    }

    #[setter]
    fn set_requires_grad(&self, value: bool) -> PyResult<()> {
        Ok(self.inner.set_requires_grad(value)?)
    }

    #[getter]
    fn is_leaf(&self) -> bool {
        self.inner.is_leaf()
    }

    /// The name of the op that produced this tensor, or None for a leaf.
    #[getter]
    fn grad_fn(&self) -> Option<&'static str> {
        self.inner.grad_fn_name()
    }

    /// The tensor itself: what a Keras variable's ``.value`` gives (``v.value.grad`` in a
    /// ``train_step`` written for Keras's PyTorch backend).
    #[getter]
    fn value(slf: PyRef<'_, Self>) -> PyRef<'_, Self> {
        slf
    }

    /// The accumulated gradient (a leaf's), or None before any backward pass.
    #[getter]
    fn grad(&self) -> Option<PyTensor> {
        self.inner.grad().map(PyTensor::wrap)
    }

    #[setter(grad)]
    fn set_grad(&self, value: Option<&Bound<'_, PyAny>>) -> PyResult<()> {
        let grad = match value {
            None => None,
            Some(v) if v.is_none() => None,
            Some(v) => Some(Tensor::new(to_storage(v, self.inner.dtype())?, false)),
        };
        Ok(self.inner.set_grad(grad)?)
    }

    /// Backpropagates from this tensor into the ``.grad`` of every leaf that requires one.
    ///
    /// As ``torch.Tensor.backward``: gradients accumulate into ``.grad`` until reset with
    /// ``zero_grad``, and the graph is freed unless ``retain_graph`` is set.
    ///
    /// Args:
    ///     gradient: the gradient of the final result with respect to this tensor, of its shape;
    ///         None for a one-element tensor, where it is 1 (default None).
    ///     retain_graph: keep the graph so that ``backward`` can run through it again
    ///         (default False).
    ///
    /// Raises:
    ///     AutogradError: the tensor has no graph and does not require grad, the graph was
    ///         freed by an earlier backward pass, or ``gradient`` is None for a tensor of more than
    ///         one element.
    ///     ShapeError: ``gradient`` does not have the tensor's shape.
    ///
    /// Examples:
    ///     >>> w = fg.tensor([1.0, 2.0], requires_grad=True)
    ///     >>> (w * w).sum().backward()
    ///     >>> w.grad
    ///     tensor([2., 4.], shape=(2,), dtype=float32)
    #[pyo3(signature = (gradient=None, retain_graph=false))]
    fn backward(&self, gradient: Option<&Bound<'_, PyAny>>, retain_graph: bool) -> PyResult<()> {
        let gradient = match gradient {
            Some(g) if !g.is_none() => Some(to_storage(g, self.inner.dtype())?),
            _ => None,
        };
        guarded(|| Ok(self.inner.backward(gradient, retain_graph)?))
    }

    /// The same values, cut from the graph: a new leaf that does not require grad (``torch.Tensor.detach``).
    ///
    /// Returns:
    ///     A tensor sharing this one's values, with no history.
    ///
    /// Examples:
    ///     >>> w = fg.ones(2, requires_grad=True)
    ///     >>> (w * 2).detach().requires_grad
    ///     False
    fn detach(&self) -> PyTensor {
        PyTensor::wrap(self.inner.detach())
    }

    /// Sets the gradient to None (PyTorch's `zero_grad(set_to_none=True)`).
    fn zero_grad(&self) -> PyResult<()> {
        Ok(self.inner.set_grad(None)?)
    }

    /// The tensor's buffer as a DLPack capsule, without a copy (the array API's protocol:
    /// `torch.from_dlpack(t)` and `np.from_dlpack(t)` call it). A tensor that requires grad is
    /// refused, as in PyTorch; export `t.detach()`.
    #[pyo3(signature = (*, stream=None, max_version=None, dl_device=None, copy=None))]
    fn __dlpack__<'py>(
        &self,
        py: Python<'py>,
        stream: Option<Bound<'py, PyAny>>,
        max_version: Option<Bound<'py, PyAny>>,
        dl_device: Option<Bound<'py, PyAny>>,
        copy: Option<bool>,
    ) -> PyResult<Bound<'py, PyAny>> {
        if let Some(stream) = stream.as_ref().filter(|s| !s.is_none()) {
            return Err(PyValueError::new_err(format!(
                "a ferrograd tensor lives on the CPU, which has no streams: stream must be None, \
                 received stream={stream}"
            )));
        }
        // Only the arguments given are passed on: numpy 1.x knows none of them, and a consumer
        // that gets a TypeError for `max_version` retries without it.
        let kwargs = PyDict::new(py);
        for (name, value) in [("max_version", max_version), ("dl_device", dl_device)] {
            if let Some(value) = value.filter(|v| !v.is_none()) {
                kwargs.set_item(name, value)?;
            }
        }
        if let Some(copy) = copy {
            kwargs.set_item("copy", copy)?;
        }
        dlpack::export(py, &self.inner, &kwargs)
    }

    /// `(device type, device id)` in DLPack's numbering: `(1, 0)`, the CPU.
    fn __dlpack_device__(&self) -> (i32, i32) {
        (dlpack::DLPACK_CPU, 0)
    }

    /// A copy of the values as a numpy array of the tensor's dtype.
    fn numpy<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        super::trace::check_readable(&self.inner, "reading it as numpy")?;
        storage_to_numpy(py, &self.inner.data())
    }

    #[pyo3(signature = (dtype=None, copy=None))]
    fn __array__<'py>(
        &self,
        py: Python<'py>,
        dtype: Option<&Bound<'py, PyAny>>,
        copy: Option<bool>,
    ) -> PyResult<Bound<'py, PyAny>> {
        if copy == Some(false) {
            return Err(PyValueError::new_err(
                "a Tensor cannot be viewed as a numpy array without a copy; use copy=None",
            ));
        }
        let array = self.numpy(py)?;
        match dtype {
            Some(d) if !d.is_none() => array.call_method1("astype", (d,)),
            _ => Ok(array),
        }
    }

    /// The value of a one-element tensor as a Python float (``torch.Tensor.item``).
    ///
    /// Returns:
    ///     A float.
    ///
    /// Raises:
    ///     ShapeError: the tensor has more or fewer than one element.
    ///
    /// Examples:
    ///     >>> fg.tensor([[2.5]]).item()
    ///     2.5
    fn item(&self) -> PyResult<f64> {
        super::trace::check_readable(&self.inner, "taking its value as a number")?;
        Ok(self.inner.item()?)
    }

    /// The values as nested Python lists of floats (a number for a 0-d tensor).
    ///
    /// Returns:
    ///     A list, nested once per axis.
    ///
    /// Examples:
    ///     >>> fg.ones(2, 2).tolist()
    ///     [[1.0, 1.0], [1.0, 1.0]]
    fn tolist<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        self.numpy(py)?.call_method0("tolist")
    }

    /// A copy converted to another dtype (``float32`` or ``float64``), as numpy's ``astype``.
    ///
    /// Gradients flow back through the conversion.
    ///
    /// Args:
    ///     dtype: ``"float32"`` or ``"float64"`` (or the numpy dtypes).
    ///
    /// Returns:
    ///     A new tensor of that dtype.
    ///
    /// Raises:
    ///     TypeError: a dtype other than float32 and float64.
    ///
    /// Examples:
    ///     >>> fg.ones(2).astype("float64").dtype
    ///     dtype('float64')
    fn astype(&self, dtype: &Bound<'_, PyAny>) -> PyResult<PyTensor> {
        let dtype = parse_dtype(Some(dtype))?;
        run_op(
            PrimitiveOp::Cast {
                dtype: dtype.name().to_string(),
            },
            &self.one(),
        )
    }

    /// The rows (the sub-tensors along the first axis), each computed when it is reached.
    fn __iter__(&self) -> PyResult<TensorRows> {
        // Without this, iteration would fall back to __getitem__(0), whose IndexError on a 0-d
        // tensor would end it at once: `list(fg.tensor(1.0))` would be `[]`.
        if self.inner.ndim() == 0 {
            return Err(PyTypeError::new_err("iteration over a 0-d tensor"));
        }
        Ok(TensorRows {
            tensor: self.inner.clone(),
            next: AtomicUsize::new(0),
        })
    }

    fn __len__(&self) -> PyResult<usize> {
        self.inner
            .shape()
            .first()
            .copied()
            .ok_or_else(|| PyTypeError::new_err("len() of a 0-d tensor"))
    }

    fn __float__(&self) -> PyResult<f64> {
        self.item()
    }

    /// Truncates toward zero, as Python's `int(float)` does: NaN and infinities raise instead
    /// of becoming 0 or a saturated integer. Values beyond 64 bits come back as Python ints.
    fn __int__<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        let value = self.item()?;
        if value.is_nan() {
            return Err(PyValueError::new_err(
                "cannot convert a tensor holding NaN to an integer",
            ));
        }
        if value.is_infinite() {
            return Err(pyo3::exceptions::PyOverflowError::new_err(
                "cannot convert a tensor holding infinity to an integer",
            ));
        }
        value.into_pyobject(py)?.call_method0("__int__")
    }

    fn __bool__(&self) -> PyResult<bool> {
        if self.inner.numel() != 1 {
            return Err(PyValueError::new_err(format!(
                "the truth value of a tensor of shape {:?} is ambiguous",
                self.inner.shape()
            )));
        }
        Ok(self.item()? != 0.0)
    }

    fn __hash__(slf: &Bound<'_, Self>) -> isize {
        slf.as_ptr() as isize
    }

    fn __repr__(&self, py: Python<'_>) -> PyResult<String> {
        let np = py.import("numpy")?;
        let kwargs = pyo3::types::PyDict::new(py);
        kwargs.set_item("separator", ", ")?;
        kwargs.set_item("prefix", "tensor(")?;
        let body: String = np
            .call_method("array2string", (self.numpy(py)?,), Some(&kwargs))?
            .extract()?;
        let mut extras = format!(
            "shape={}, dtype={}",
            shape_repr(self.inner.shape()),
            self.inner.dtype()
        );
        if let Some(name) = self.inner.grad_fn_name() {
            extras.push_str(&format!(", grad_fn={name}"));
        } else if self.inner.requires_grad() {
            extras.push_str(", requires_grad=True");
        }
        Ok(format!("tensor({body}, {extras})"))
    }

    fn __add__(&self, other: &Bound<'_, PyAny>) -> PyResult<PyTensor> {
        binary_with(BinaryOp::Add, &self.inner, other, false)
    }

    fn __radd__(&self, other: &Bound<'_, PyAny>) -> PyResult<PyTensor> {
        binary_with(BinaryOp::Add, &self.inner, other, true)
    }

    fn __sub__(&self, other: &Bound<'_, PyAny>) -> PyResult<PyTensor> {
        binary_with(BinaryOp::Sub, &self.inner, other, false)
    }

    fn __rsub__(&self, other: &Bound<'_, PyAny>) -> PyResult<PyTensor> {
        binary_with(BinaryOp::Sub, &self.inner, other, true)
    }

    fn __mul__(&self, other: &Bound<'_, PyAny>) -> PyResult<PyTensor> {
        binary_with(BinaryOp::Mul, &self.inner, other, false)
    }

    fn __rmul__(&self, other: &Bound<'_, PyAny>) -> PyResult<PyTensor> {
        binary_with(BinaryOp::Mul, &self.inner, other, true)
    }

    fn __truediv__(&self, other: &Bound<'_, PyAny>) -> PyResult<PyTensor> {
        binary_with(BinaryOp::Div, &self.inner, other, false)
    }

    fn __rtruediv__(&self, other: &Bound<'_, PyAny>) -> PyResult<PyTensor> {
        binary_with(BinaryOp::Div, &self.inner, other, true)
    }

    fn __pow__(
        &self,
        other: &Bound<'_, PyAny>,
        modulo: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<PyTensor> {
        if modulo.is_some_and(|m| !m.is_none()) {
            return Err(PyTypeError::new_err(
                "pow() with a modulus is not supported for tensors",
            ));
        }
        // A constant exponent is a unary op: cheaper, and its gradient needs no log of the base.
        if let Ok(Operand::Scalar(exponent)) = to_operand(other, &self.inner) {
            return run_op(PrimitiveOp::PowScalar { exponent }, &self.one());
        }
        binary_with(BinaryOp::Pow, &self.inner, other, false)
    }

    fn __rpow__(
        &self,
        other: &Bound<'_, PyAny>,
        modulo: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<PyTensor> {
        if modulo.is_some_and(|m| !m.is_none()) {
            return Err(PyTypeError::new_err(
                "pow() with a modulus is not supported for tensors",
            ));
        }
        binary_with(BinaryOp::Pow, &self.inner, other, true)
    }

    fn __neg__(&self) -> PyResult<PyTensor> {
        run_op(PrimitiveOp::Neg, &self.one())
    }

    fn __pos__(&self) -> PyTensor {
        PyTensor::wrap(self.inner.clone())
    }

    fn __abs__(&self) -> PyResult<PyTensor> {
        self.abs()
    }

    fn __matmul__(&self, other: &Bound<'_, PyAny>) -> PyResult<PyTensor> {
        let other = match to_operand(other, &self.inner)? {
            Operand::Tensor(t) => t,
            Operand::Scalar(_) => {
                return Err(PyValueError::new_err(
                    "matmul: a scalar operand is not allowed, use *",
                ));
            }
        };
        run_op(PrimitiveOp::MatMul, &[self.inner.clone(), other])
    }

    fn __rmatmul__(&self, other: &Bound<'_, PyAny>) -> PyResult<PyTensor> {
        let other = match to_operand(other, &self.inner)? {
            Operand::Tensor(t) => t,
            Operand::Scalar(_) => {
                return Err(PyValueError::new_err(
                    "matmul: a scalar operand is not allowed, use *",
                ));
            }
        };
        run_op(PrimitiveOp::MatMul, &[other, self.inner.clone()])
    }

    /// The matrix product ``self @ other``, with numpy's broadcasting of batch axes.
    ///
    /// Args:
    ///     other: a tensor, array-like or number-array whose last-but-one axis matches this
    ///         tensor's last (a 1-D operand is a vector).
    ///
    /// Returns:
    ///     A new tensor; gradients flow to both operands.
    ///
    /// Raises:
    ///     ShapeError: the inner dimensions do not match.
    ///
    /// Examples:
    ///     >>> fg.ones(2, 3).matmul(fg.ones(3, 4)).shape
    ///     (2, 4)
    fn matmul(&self, other: &Bound<'_, PyAny>) -> PyResult<PyTensor> {
        self.__matmul__(other)
    }

    fn __lt__(&self, other: &Bound<'_, PyAny>) -> PyResult<PyTensor> {
        self.compare(Comparison::Less, other)
    }

    fn __le__(&self, other: &Bound<'_, PyAny>) -> PyResult<PyTensor> {
        self.compare(Comparison::LessEqual, other)
    }

    fn __gt__(&self, other: &Bound<'_, PyAny>) -> PyResult<PyTensor> {
        self.compare(Comparison::Greater, other)
    }

    fn __ge__(&self, other: &Bound<'_, PyAny>) -> PyResult<PyTensor> {
        self.compare(Comparison::GreaterEqual, other)
    }

    fn __eq__(&self, other: &Bound<'_, PyAny>) -> PyResult<Py<PyAny>> {
        self.equality(Comparison::Equal, other)
    }

    fn __ne__(&self, other: &Bound<'_, PyAny>) -> PyResult<Py<PyAny>> {
        self.equality(Comparison::NotEqual, other)
    }

    fn __getitem__(&self, key: &Bound<'_, PyAny>) -> PyResult<PyTensor> {
        let items = match key.cast::<PyTuple>() {
            Ok(tuple) => tuple
                .iter()
                .map(|i| parse_index_item(&i))
                .collect::<PyResult<Vec<_>>>()?,
            Err(_) => vec![parse_index_item(key)?],
        };
        run_op(PrimitiveOp::Index { items }, &self.one())
    }

    /// ``exp(x)``, element by element.
    ///
    /// Returns:
    ///     A new tensor of the same shape; gradients flow through it.
    ///
    /// Examples:
    ///     >>> fg.tensor([-1.0, 0.0, 2.0]).exp().numpy().round(4)
    ///     array([0.3679, 1.    , 7.3891], dtype=float32)
    fn exp(&self) -> PyResult<PyTensor> {
        self.unary(UnaryFn::Exp)
    }

    /// The natural logarithm, element by element (NaN below 0, ``-inf`` at 0, as numpy).
    ///
    /// Returns:
    ///     A new tensor of the same shape; gradients flow through it.
    ///
    /// Examples:
    ///     >>> fg.tensor([1.0, 4.0, 9.0]).log().numpy().round(4)
    ///     array([0.    , 1.3863, 2.1972], dtype=float32)
    fn log(&self) -> PyResult<PyTensor> {
        self.unary(UnaryFn::Log)
    }

    /// The square root, element by element (NaN below 0, as numpy).
    ///
    /// Returns:
    ///     A new tensor of the same shape; gradients flow through it.
    ///
    /// Examples:
    ///     >>> fg.tensor([1.0, 4.0, 9.0]).sqrt()
    ///     tensor([1., 2., 3.], shape=(3,), dtype=float32)
    fn sqrt(&self) -> PyResult<PyTensor> {
        self.unary(UnaryFn::Sqrt)
    }

    /// ``|x|``, element by element (also ``abs(t)``).
    ///
    /// Returns:
    ///     A new tensor of the same shape; gradients flow through it.
    ///
    /// Examples:
    ///     >>> fg.tensor([-1.0, 0.0, 2.0]).abs().numpy().round(4)
    ///     array([1., 0., 2.], dtype=float32)
    fn abs(&self) -> PyResult<PyTensor> {
        self.unary(UnaryFn::Abs)
    }

    /// ``x ** 2``, element by element.
    ///
    /// Returns:
    ///     A new tensor of the same shape; gradients flow through it.
    ///
    /// Examples:
    ///     >>> fg.tensor([-1.0, 0.0, 2.0]).square().numpy().round(4)
    ///     array([1., 0., 4.], dtype=float32)
    fn square(&self) -> PyResult<PyTensor> {
        self.unary(UnaryFn::Square)
    }

    /// ``max(x, 0)``, element by element.
    ///
    /// Returns:
    ///     A new tensor of the same shape; gradients flow through it.
    ///
    /// Examples:
    ///     >>> fg.tensor([-1.0, 0.0, 2.0]).relu().numpy().round(4)
    ///     array([0., 0., 2.], dtype=float32)
    fn relu(&self) -> PyResult<PyTensor> {
        self.unary(UnaryFn::Relu)
    }

    /// ``1 / (1 + exp(-x))``, element by element, stable for large ``|x|``.
    ///
    /// Returns:
    ///     A new tensor of the same shape; gradients flow through it.
    ///
    /// Examples:
    ///     >>> fg.tensor([-1.0, 0.0, 2.0]).sigmoid().numpy().round(4)
    ///     array([0.2689, 0.5   , 0.8808], dtype=float32)
    fn sigmoid(&self) -> PyResult<PyTensor> {
        self.unary(UnaryFn::Sigmoid)
    }

    /// The hyperbolic tangent, element by element.
    ///
    /// Returns:
    ///     A new tensor of the same shape; gradients flow through it.
    ///
    /// Examples:
    ///     >>> fg.tensor([-1.0, 0.0, 2.0]).tanh().numpy().round(4)
    ///     array([-0.7616,  0.    ,  0.964 ], dtype=float32)
    fn tanh(&self) -> PyResult<PyTensor> {
        self.unary(UnaryFn::Tanh)
    }

    /// ``exp(x) / sum(exp(x))`` along ``axis``, shifted by the maximum for stability.
    ///
    /// Args:
    ///     axis: the axis that sums to 1; negative counts from the end (default -1).
    ///
    /// Returns:
    ///     A new tensor of the same shape; gradients flow through it.
    ///
    /// Raises:
    ///     ShapeError: ``axis`` is out of range.
    ///
    /// Examples:
    ///     >>> fg.tensor([1.0, 2.0, 3.0]).softmax().numpy().round(4)
    ///     array([0.09  , 0.2447, 0.6652], dtype=float32)
    // pyo3 writes a negative default as `...` in `__text_signature__`; help() and stubtest
    // should read -1.
    #[pyo3(signature = (axis=-1), text_signature = "($self, axis=-1)")]
    fn softmax(&self, axis: isize) -> PyResult<PyTensor> {
        run_op(PrimitiveOp::Softmax { axis }, &self.one())
    }

    /// ``log(softmax(x))`` along ``axis``, computed stably (``x - logsumexp(x)``).
    ///
    /// Args:
    ///     axis: the axis of the softmax; negative counts from the end (default -1).
    ///
    /// Returns:
    ///     A new tensor of the same shape; gradients flow through it.
    ///
    /// Raises:
    ///     ShapeError: ``axis`` is out of range.
    ///
    /// Examples:
    ///     >>> fg.tensor([0.0, 0.0]).log_softmax().numpy().round(4)
    ///     array([-0.6931, -0.6931], dtype=float32)
    #[pyo3(signature = (axis=-1), text_signature = "($self, axis=-1)")]
    fn log_softmax(&self, axis: isize) -> PyResult<PyTensor> {
        run_op(PrimitiveOp::LogSoftmax { axis }, &self.one())
    }

    /// The sum over ``axis`` (every axis by default), as ``torch.sum`` and numpy's ``sum``.
    ///
    /// Args:
    ///     axis: an int, a tuple of ints, or None for every axis; negative counts from the end
    ///         (default None).
    ///     keepdims: keep the reduced axes with size 1, for broadcasting (default False).
    ///
    /// Returns:
    ///     A new tensor; gradients flow through it.
    ///
    /// Raises:
    ///     ShapeError: an axis out of range.
    ///     TypeError: ``axis`` is not None, an int or a tuple of ints.
    ///
    /// Examples:
    ///     >>> t = fg.tensor([[1.0, 2.0], [3.0, 4.0]])
    ///     >>> t.sum()
    ///     tensor(10., shape=(), dtype=float32)
    ///     >>> t.sum(axis=0)
    ///     tensor([4., 6.], shape=(2,), dtype=float32)
    ///     >>> t.sum(axis=1, keepdims=True).shape
    ///     (2, 1)
    #[pyo3(signature = (axis=None, keepdims=false))]
    fn sum(&self, axis: Option<&Bound<'_, PyAny>>, keepdims: bool) -> PyResult<PyTensor> {
        let axes = axes_arg(axis)?;
        run_op(PrimitiveOp::Sum { axes, keepdims }, &self.one())
    }

    /// The mean over ``axis`` (every axis by default), as ``torch.mean`` and numpy's ``mean``.
    ///
    /// Args:
    ///     axis: an int, a tuple of ints, or None for every axis; negative counts from the end
    ///         (default None).
    ///     keepdims: keep the reduced axes with size 1, for broadcasting (default False).
    ///
    /// Returns:
    ///     A new tensor; gradients flow through it.
    ///
    /// Raises:
    ///     ShapeError: an axis out of range.
    ///     TypeError: ``axis`` is not None, an int or a tuple of ints.
    ///
    /// Examples:
    ///     >>> fg.tensor([[1.0, 2.0], [3.0, 4.0]]).mean(axis=-1)
    ///     tensor([1.5, 3.5], shape=(2,), dtype=float32)
    #[pyo3(signature = (axis=None, keepdims=false))]
    fn mean(&self, axis: Option<&Bound<'_, PyAny>>, keepdims: bool) -> PyResult<PyTensor> {
        let axes = axes_arg(axis)?;
        run_op(PrimitiveOp::Mean { axes, keepdims }, &self.one())
    }

    /// The maximum over ``axis`` (every axis by default), as numpy's ``max``.
    ///
    /// The gradient goes to the maximal elements.
    ///
    /// Args:
    ///     axis: an int, a tuple of ints, or None for every axis; negative counts from the end
    ///         (default None).
    ///     keepdims: keep the reduced axes with size 1, for broadcasting (default False).
    ///
    /// Returns:
    ///     A new tensor; gradients flow through it.
    ///
    /// Raises:
    ///     ShapeError: an axis out of range.
    ///     TypeError: ``axis`` is not None, an int or a tuple of ints.
    ///
    /// Examples:
    ///     >>> fg.tensor([[1.0, 5.0], [3.0, 4.0]]).max(axis=0)
    ///     tensor([3., 5.], shape=(2,), dtype=float32)
    #[pyo3(signature = (axis=None, keepdims=false))]
    fn max(&self, axis: Option<&Bound<'_, PyAny>>, keepdims: bool) -> PyResult<PyTensor> {
        let axes = axes_arg(axis)?;
        run_op(PrimitiveOp::Max { axes, keepdims }, &self.one())
    }

    /// The same values in another shape, as numpy and PyTorch: ``reshape(2, 3)`` or ``reshape((2, 3))``.
    ///
    /// Args:
    ///     *shape: the new dimensions, as separate ints or one tuple; one of them may be -1,
    ///         inferred from the size.
    ///
    /// Returns:
    ///     A new tensor; gradients flow through it.
    ///
    /// Raises:
    ///     ShapeError: the new shape does not hold the same number of elements.
    ///
    /// Examples:
    ///     >>> fg.arange(6).reshape(2, -1)
    ///     tensor([[0., 1., 2.],
    ///             [3., 4., 5.]], shape=(2, 3), dtype=float32)
    #[pyo3(signature = (*shape))]
    fn reshape(&self, shape: &Bound<'_, PyTuple>) -> PyResult<PyTensor> {
        let dims = dims_arg(shape)?;
        run_op(PrimitiveOp::Reshape { shape: dims }, &self.one())
    }

    /// The axes permuted: reversed with no argument (as ``t.T``), or in the order given.
    ///
    /// As numpy's ``transpose``; ``transpose(1, 0, 2)`` and ``transpose((1, 0, 2))`` both work.
    ///
    /// Args:
    ///     *axes: a permutation of the axes, as separate ints or one tuple; none reverses them.
    ///
    /// Returns:
    ///     A new tensor; gradients flow through it.
    ///
    /// Raises:
    ///     ValueError: ``axes`` is not a permutation of the tensor's axes.
    ///
    /// Examples:
    ///     >>> fg.ones(2, 3, 4).transpose().shape
    ///     (4, 3, 2)
    ///     >>> fg.ones(2, 3, 4).transpose(1, 0, 2).shape
    ///     (3, 2, 4)
    #[pyo3(signature = (*axes))]
    fn transpose(&self, axes: &Bound<'_, PyTuple>) -> PyResult<PyTensor> {
        let axes = if axes.is_empty() {
            None
        } else {
            Some(dims_arg(axes)?)
        };
        run_op(PrimitiveOp::Transpose { axes }, &self.one())
    }

    #[getter(T)]
    fn transposed(&self) -> PyResult<PyTensor> {
        run_op(PrimitiveOp::Transpose { axes: None }, &self.one())
    }

    /// Each value limited to ``[min, max]`` (``torch.clamp``, numpy's ``clip``).
    ///
    /// The gradient is 1 inside the range and 0 where a value was clipped.
    ///
    /// Args:
    ///     min: the lower bound, or None for none (default None).
    ///     max: the upper bound, or None for none (default None).
    ///
    /// Returns:
    ///     A new tensor of the same shape.
    ///
    /// Examples:
    ///     >>> fg.tensor([-2.0, 0.5, 3.0]).clip(-1.0, 1.0)
    ///     tensor([-1. ,  0.5,  1. ], shape=(3,), dtype=float32)
    #[pyo3(signature = (min=None, max=None))]
    fn clip(&self, min: Option<f64>, max: Option<f64>) -> PyResult<PyTensor> {
        run_op(PrimitiveOp::Clip { min, max }, &self.one())
    }

    /// The elementwise sine (radians).
    ///
    /// Returns:
    ///     A new tensor; gradients flow through it.
    ///
    /// Examples:
    ///     >>> fg.tensor([0.0, 1.0]).sin()
    ///     tensor([0.        , 0.84147096], shape=(2,), dtype=float32)
    fn sin(&self) -> PyResult<PyTensor> {
        self.unary(UnaryFn::Sin)
    }

    /// The elementwise cosine (radians).
    ///
    /// Returns:
    ///     A new tensor; gradients flow through it.
    ///
    /// Examples:
    ///     >>> fg.tensor([0.0, 1.0]).cos()
    ///     tensor([1.       , 0.5403023], shape=(2,), dtype=float32)
    fn cos(&self) -> PyResult<PyTensor> {
        self.unary(UnaryFn::Cos)
    }

    /// The elementwise tangent (radians).
    ///
    /// Returns:
    ///     A new tensor; gradients flow through it.
    ///
    /// Examples:
    ///     >>> fg.tensor([0.0, 1.0]).tan()
    ///     tensor([0.       , 1.5574077], shape=(2,), dtype=float32)
    fn tan(&self) -> PyResult<PyTensor> {
        self.unary(UnaryFn::Tan)
    }

    /// The elementwise hyperbolic sine.
    ///
    /// Returns:
    ///     A new tensor; gradients flow through it.
    ///
    /// Examples:
    ///     >>> fg.tensor([0.0, 1.0]).sinh()
    ///     tensor([0.       , 1.1752012], shape=(2,), dtype=float32)
    fn sinh(&self) -> PyResult<PyTensor> {
        self.unary(UnaryFn::Sinh)
    }

    /// The elementwise hyperbolic cosine.
    ///
    /// Returns:
    ///     A new tensor; gradients flow through it.
    ///
    /// Examples:
    ///     >>> fg.tensor([0.0, 1.0]).cosh()
    ///     tensor([1.       , 1.5430806], shape=(2,), dtype=float32)
    fn cosh(&self) -> PyResult<PyTensor> {
        self.unary(UnaryFn::Cosh)
    }

    /// ``exp(x) - 1`` elementwise, accurate near zero.
    ///
    /// Returns:
    ///     A new tensor; gradients flow through it.
    ///
    /// Examples:
    ///     >>> fg.tensor([0.0, 1.0]).expm1()
    ///     tensor([0.       , 1.7182817], shape=(2,), dtype=float32)
    fn expm1(&self) -> PyResult<PyTensor> {
        self.unary(UnaryFn::Expm1)
    }

    /// ``log(1 + x)`` elementwise, accurate near zero.
    ///
    /// Returns:
    ///     A new tensor; gradients flow through it.
    ///
    /// Examples:
    ///     >>> fg.tensor([0.0, 1.0]).log1p()
    ///     tensor([0.       , 0.6931472], shape=(2,), dtype=float32)
    fn log1p(&self) -> PyResult<PyTensor> {
        self.unary(UnaryFn::Log1p)
    }

    /// The elementwise base-2 logarithm.
    ///
    /// Returns:
    ///     A new tensor; gradients flow through it.
    ///
    /// Examples:
    ///     >>> fg.tensor([1.0, 8.0]).log2()
    ///     tensor([0., 3.], shape=(2,), dtype=float32)
    fn log2(&self) -> PyResult<PyTensor> {
        self.unary(UnaryFn::Log2)
    }

    /// ``1 / sqrt(x)`` elementwise.
    ///
    /// Returns:
    ///     A new tensor; gradients flow through it.
    ///
    /// Examples:
    ///     >>> fg.tensor([1.0, 4.0]).rsqrt()
    ///     tensor([1. , 0.5], shape=(2,), dtype=float32)
    fn rsqrt(&self) -> PyResult<PyTensor> {
        self.unary(UnaryFn::Rsqrt)
    }

    /// -1, 0 or 1 elementwise, by the sign of each value; the gradient is zero.
    ///
    /// Returns:
    ///     A new tensor; gradients flow through it.
    ///
    /// Examples:
    ///     >>> fg.tensor([-2.0, 0.0, 3.0]).sign()
    ///     tensor([-1.,  0.,  1.], shape=(3,), dtype=float32)
    fn sign(&self) -> PyResult<PyTensor> {
        self.unary(UnaryFn::Sign)
    }

    /// Each value rounded down; the gradient is zero.
    ///
    /// Returns:
    ///     A new tensor; gradients flow through it.
    ///
    /// Examples:
    ///     >>> fg.tensor([-1.5, 0.5, 2.5]).floor()
    ///     tensor([-2.,  0.,  2.], shape=(3,), dtype=float32)
    fn floor(&self) -> PyResult<PyTensor> {
        self.unary(UnaryFn::Floor)
    }

    /// Each value rounded up; the gradient is zero.
    ///
    /// Returns:
    ///     A new tensor; gradients flow through it.
    ///
    /// Examples:
    ///     >>> fg.tensor([-1.5, 0.5, 2.5]).ceil()
    ///     tensor([-1.,  1.,  3.], shape=(3,), dtype=float32)
    fn ceil(&self) -> PyResult<PyTensor> {
        self.unary(UnaryFn::Ceil)
    }

    /// Each value rounded to the nearest integer; the gradient is zero.
    ///
    /// Returns:
    ///     A new tensor; gradients flow through it.
    ///
    /// Examples:
    ///     >>> fg.tensor([-1.5, 0.4, 2.6]).round()
    ///     tensor([-2.,  0.,  3.], shape=(3,), dtype=float32)
    fn round(&self) -> PyResult<PyTensor> {
        self.unary(UnaryFn::Round)
    }

    /// ``self ** exponent`` (a number or a tensor, broadcast), as PyTorch's ``pow``.
    ///
    /// Args:
    ///     exponent: a number or a tensor, broadcast against this one.
    ///
    /// Returns:
    ///     A new tensor; gradients flow through it.
    ///
    /// Examples:
    ///     >>> fg.tensor([1.0, 2.0, 3.0]).pow(2)
    ///     tensor([1., 4., 9.], shape=(3,), dtype=float32)
    fn pow(&self, exponent: &Bound<'_, PyAny>) -> PyResult<PyTensor> {
        self.__pow__(exponent, None)
    }

    /// The elementwise larger of the two (broadcast); ties send the gradient to ``self``.
    ///
    /// Args:
    ///     other: a number or a tensor, broadcast against this one.
    ///
    /// Returns:
    ///     A new tensor; gradients flow through it.
    ///
    /// Examples:
    ///     >>> fg.tensor([1.0, 5.0]).maximum(fg.tensor([3.0, 4.0]))
    ///     tensor([3., 5.], shape=(2,), dtype=float32)
    fn maximum(&self, other: &Bound<'_, PyAny>) -> PyResult<PyTensor> {
        binary_with(BinaryOp::Maximum, &self.inner, other, false)
    }

    /// The elementwise smaller of the two (broadcast).
    ///
    /// Args:
    ///     other: a number or a tensor, broadcast against this one.
    ///
    /// Returns:
    ///     A new tensor; gradients flow through it.
    ///
    /// Examples:
    ///     >>> fg.tensor([1.0, 5.0]).minimum(fg.tensor([3.0, 4.0]))
    ///     tensor([1., 4.], shape=(2,), dtype=float32)
    fn minimum(&self, other: &Bound<'_, PyAny>) -> PyResult<PyTensor> {
        binary_with(BinaryOp::Minimum, &self.inner, other, false)
    }

    /// ``clip`` under PyTorch's name: each value limited to ``[min, max]``.
    ///
    /// Args:
    ///     min: the lower bound, or None for none (default None).
    ///     max: the upper bound, or None for none (default None).
    ///
    /// Returns:
    ///     A new tensor of the same shape.
    ///
    /// Examples:
    ///     >>> fg.tensor([-2.0, 0.5, 3.0]).clamp(-1.0, 1.0)
    ///     tensor([-1. ,  0.5,  1. ], shape=(3,), dtype=float32)
    #[pyo3(signature = (min=None, max=None))]
    fn clamp(&self, min: Option<f64>, max: Option<f64>) -> PyResult<PyTensor> {
        self.clip(min, max)
    }

    /// The minimum over ``axis`` (every axis by default), as numpy's ``min``.
    ///
    /// Args:
    ///     axis: an int, a tuple of ints, or None for every axis; negative counts from the end
    ///         (default None).
    ///     keepdims: keep the reduced axes with size 1 (default False).
    ///     dim: PyTorch's name for ``axis``.
    ///     keepdim: PyTorch's name for ``keepdims``.
    ///
    /// Returns:
    ///     A new tensor; gradients flow through it.
    ///
    /// Examples:
    ///     >>> fg.tensor([[1.0, 5.0], [3.0, 4.0]]).min(axis=0)
    ///     tensor([1., 4.], shape=(2,), dtype=float32)
    #[pyo3(signature = (axis=None, keepdims=false, *, dim=None, keepdim=None))]
    fn min(
        &self,
        axis: Option<&Bound<'_, PyAny>>,
        keepdims: bool,
        dim: Option<&Bound<'_, PyAny>>,
        keepdim: Option<bool>,
    ) -> PyResult<PyTensor> {
        let axes = axis_or_dim(axis, dim)?;
        let keepdims = keepdim.unwrap_or(keepdims);
        run_op(PrimitiveOp::Min { axes, keepdims }, &self.one())
    }

    /// The product over ``axis`` (every axis by default), as numpy's ``prod``.
    ///
    /// Args:
    ///     axis: an int, a tuple of ints, or None for every axis; negative counts from the end
    ///         (default None).
    ///     keepdims: keep the reduced axes with size 1 (default False).
    ///     dim: PyTorch's name for ``axis``.
    ///     keepdim: PyTorch's name for ``keepdims``.
    ///
    /// Returns:
    ///     A new tensor; gradients flow through it.
    ///
    /// Examples:
    ///     >>> fg.tensor([[1.0, 2.0], [3.0, 4.0]]).prod(axis=1)
    ///     tensor([ 2., 12.], shape=(2,), dtype=float32)
    #[pyo3(signature = (axis=None, keepdims=false, *, dim=None, keepdim=None))]
    fn prod(
        &self,
        axis: Option<&Bound<'_, PyAny>>,
        keepdims: bool,
        dim: Option<&Bound<'_, PyAny>>,
        keepdim: Option<bool>,
    ) -> PyResult<PyTensor> {
        let axes = axis_or_dim(axis, dim)?;
        let keepdims = keepdim.unwrap_or(keepdims);
        run_op(PrimitiveOp::Prod { axes, keepdims }, &self.one())
    }

    /// The position of the largest value (over the flattened tensor when no axis is given),
    /// as a float tensor without a graph; ties go to the first.
    ///
    /// Args:
    ///     axis: one int, or None for the flattened tensor (default None).
    ///     keepdims: keep the reduced axis with size 1 (default False).
    ///     dim: PyTorch's name for ``axis``.
    ///     keepdim: PyTorch's name for ``keepdims``.
    ///
    /// Returns:
    ///     A float tensor of indices, without a graph.
    ///
    /// Examples:
    ///     >>> fg.tensor([[1.0, 5.0], [3.0, 4.0]]).argmax(axis=1)
    ///     tensor([1., 1.], shape=(2,), dtype=float32)
    #[pyo3(signature = (axis=None, keepdims=false, *, dim=None, keepdim=None))]
    fn argmax(
        &self,
        axis: Option<&Bound<'_, PyAny>>,
        keepdims: bool,
        dim: Option<&Bound<'_, PyAny>>,
        keepdim: Option<bool>,
    ) -> PyResult<PyTensor> {
        let axis = single_axis(axis_or_dim(axis, dim)?, "argmax")?;
        let keepdims = keepdim.unwrap_or(keepdims);
        run_op(
            PrimitiveOp::ArgExtremum {
                axis,
                keepdims,
                largest: true,
            },
            &self.one(),
        )
    }

    /// The position of the smallest value; see ``argmax``.
    ///
    /// Args:
    ///     axis: one int, or None for the flattened tensor (default None).
    ///     keepdims: keep the reduced axis with size 1 (default False).
    ///     dim: PyTorch's name for ``axis``.
    ///     keepdim: PyTorch's name for ``keepdims``.
    ///
    /// Returns:
    ///     A float tensor of indices, without a graph.
    ///
    /// Examples:
    ///     >>> fg.tensor([[1.0, 5.0], [3.0, 4.0]]).argmin(axis=1)
    ///     tensor([0., 0.], shape=(2,), dtype=float32)
    #[pyo3(signature = (axis=None, keepdims=false, *, dim=None, keepdim=None))]
    fn argmin(
        &self,
        axis: Option<&Bound<'_, PyAny>>,
        keepdims: bool,
        dim: Option<&Bound<'_, PyAny>>,
        keepdim: Option<bool>,
    ) -> PyResult<PyTensor> {
        let axis = single_axis(axis_or_dim(axis, dim)?, "argmin")?;
        let keepdims = keepdim.unwrap_or(keepdims);
        run_op(
            PrimitiveOp::ArgExtremum {
                axis,
                keepdims,
                largest: false,
            },
            &self.one(),
        )
    }

    /// The running sum along ``axis`` (over the flattened tensor when None).
    ///
    /// Args:
    ///     axis: one int, or None for the flattened tensor (default None).
    ///     dim: PyTorch's name for ``axis``.
    ///
    /// Returns:
    ///     A new tensor; gradients flow through it.
    ///
    /// Examples:
    ///     >>> fg.tensor([1.0, 2.0, 3.0]).cumsum()
    ///     tensor([1., 3., 6.], shape=(3,), dtype=float32)
    #[pyo3(signature = (axis=None, *, dim=None))]
    fn cumsum(
        &self,
        axis: Option<&Bound<'_, PyAny>>,
        dim: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<PyTensor> {
        let axis = single_axis(axis_or_dim(axis, dim)?, "cumsum")?;
        run_op(PrimitiveOp::Cumsum { axis }, &self.one())
    }

    /// The variance, dividing by ``n - correction``: PyTorch's default ``correction=1`` (the
    /// sample variance); ``ferrograd.ops.var`` is Keras's population variance.
    ///
    /// Args:
    ///     axis: an int, a tuple of ints, or None for every axis; negative counts from the end
    ///         (default None).
    ///     keepdims: keep the reduced axes with size 1 (default False).
    ///     dim: PyTorch's name for ``axis``.
    ///     keepdim: PyTorch's name for ``keepdims``.
    ///     correction: subtracted from the count in the divisor (default 1).
    ///
    /// Returns:
    ///     A new tensor; gradients flow through it.
    ///
    /// Examples:
    ///     >>> fg.tensor([1.0, 2.0, 3.0, 4.0]).var()
    ///     tensor(1.6666666, shape=(), dtype=float32)
    #[pyo3(signature = (axis=None, keepdims=false, *, dim=None, keepdim=None, correction=1.0))]
    fn var(
        &self,
        axis: Option<&Bound<'_, PyAny>>,
        keepdims: bool,
        dim: Option<&Bound<'_, PyAny>>,
        keepdim: Option<bool>,
        correction: f64,
    ) -> PyResult<PyTensor> {
        let axes = axis_or_dim(axis, dim)?;
        let keepdims = keepdim.unwrap_or(keepdims);
        run_op(
            PrimitiveOp::Var {
                axes,
                keepdims,
                correction,
            },
            &self.one(),
        )
    }

    /// The standard deviation; see ``var``.
    ///
    /// Args:
    ///     axis: an int, a tuple of ints, or None for every axis; negative counts from the end
    ///         (default None).
    ///     keepdims: keep the reduced axes with size 1 (default False).
    ///     dim: PyTorch's name for ``axis``.
    ///     keepdim: PyTorch's name for ``keepdims``.
    ///     correction: subtracted from the count in the divisor (default 1).
    ///
    /// Returns:
    ///     A new tensor; gradients flow through it.
    ///
    /// Examples:
    ///     >>> fg.tensor([1.0, 2.0, 3.0, 4.0]).std(correction=0)
    ///     tensor(1.118034, shape=(), dtype=float32)
    #[pyo3(signature = (axis=None, keepdims=false, *, dim=None, keepdim=None, correction=1.0))]
    fn std(
        &self,
        axis: Option<&Bound<'_, PyAny>>,
        keepdims: bool,
        dim: Option<&Bound<'_, PyAny>>,
        keepdim: Option<bool>,
        correction: f64,
    ) -> PyResult<PyTensor> {
        let axes = axis_or_dim(axis, dim)?;
        let keepdims = keepdim.unwrap_or(keepdims);
        run_op(
            PrimitiveOp::Std {
                axes,
                keepdims,
                correction,
            },
            &self.one(),
        )
    }

    /// The ``p``-norm of the elements over ``dim`` (all of them by default) taken as one vector.
    ///
    /// Args:
    ///     p: the order of the norm (default 2).
    ///     dim: an int, a tuple of ints, or None for every axis (default None).
    ///     keepdim: keep the reduced axes with size 1 (default False).
    ///
    /// Returns:
    ///     A new tensor; gradients flow through it.
    ///
    /// Examples:
    ///     >>> fg.tensor([3.0, 4.0]).norm()
    ///     tensor(5., shape=(), dtype=float32)
    #[pyo3(signature = (p=2.0, dim=None, keepdim=false))]
    fn norm(&self, p: f64, dim: Option<&Bound<'_, PyAny>>, keepdim: bool) -> PyResult<PyTensor> {
        let axes = axes_arg(dim)?;
        run_op(
            PrimitiveOp::Norm {
                ord: p,
                axes,
                keepdims: keepdim,
            },
            &self.one(),
        )
    }

    /// A new axis of size 1 at ``dim`` (negative counts from the end of the result).
    ///
    /// Args:
    ///     dim: where the new axis goes.
    ///
    /// Returns:
    ///     A new tensor; gradients flow through it.
    ///
    /// Examples:
    ///     >>> fg.ones(2, 3).unsqueeze(0).shape
    ///     (1, 2, 3)
    fn unsqueeze(&self, dim: isize) -> PyResult<PyTensor> {
        let rank = self.inner.ndim() as isize + 1;
        let at = if dim < 0 { dim + rank } else { dim };
        if !(0..rank).contains(&at) {
            return Err(PyValueError::new_err(format!(
                "unsqueeze: dim {dim} is out of range for a result of {rank} dimensions"
            )));
        }
        let mut shape: Vec<isize> = self.inner.shape().iter().map(|&d| d as isize).collect();
        shape.insert(at as usize, 1);
        run_op(PrimitiveOp::Reshape { shape }, &self.one())
    }

    /// Turns gradient tracking on (or off) for this leaf and returns it, as in PyTorch.
    ///
    /// Args:
    ///     requires_grad: whether to track gradients (default True).
    ///
    /// Returns:
    ///     The tensor itself.
    ///
    /// Examples:
    ///     >>> fg.zeros(2).requires_grad_().requires_grad
    ///     True
    #[pyo3(signature = (requires_grad=true))]
    fn requires_grad_(slf: Bound<'_, Self>, requires_grad: bool) -> PyResult<Bound<'_, Self>> {
        slf.get().inner.set_requires_grad(requires_grad)?;
        Ok(slf)
    }

    /// The number of in-place changes made to this tensor (PyTorch's `_version`).
    #[getter(_version)]
    fn version(&self) -> u64 {
        self.inner.version()
    }

    /// Sets every element to zero in place and returns the tensor.
    fn zero_(slf: Bound<'_, Self>) -> PyResult<Bound<'_, Self>> {
        guarded(|| Ok(slf.get().inner.fill_in_place(0.0)?))?;
        Ok(slf)
    }

    /// Sets every element to ``value`` in place and returns the tensor.
    ///
    /// Args:
    ///     value: the number to write.
    ///
    /// Returns:
    ///     The tensor itself, changed in place.
    ///
    /// Examples:
    ///     >>> fg.zeros(3).fill_(2.0)
    ///     tensor([2., 2., 2.], shape=(3,), dtype=float32)
    fn fill_(slf: Bound<'_, Self>, value: f64) -> PyResult<Bound<'_, Self>> {
        guarded(|| Ok(slf.get().inner.fill_in_place(value)?))?;
        Ok(slf)
    }

    /// Keras's ``Variable.assign``: overwrites the values in place with ``value`` (broadcast
    /// to this shape), whether or not gradients are being recorded; the tensor keeps its
    /// ``requires_grad``. Inside a traced ``call()`` it is refused: a graph cannot update a
    /// weight in place (``compile(run_eagerly=True)`` can).
    ///
    /// Args:
    ///     value: a number, an array or a tensor.
    ///
    /// Returns:
    ///     The tensor itself.
    ///
    /// Examples:
    ///     >>> w = fg.zeros(2, requires_grad=True)
    ///     >>> w.assign([1.0, 2.0]).tolist()
    ///     [1.0, 2.0]
    fn assign<'py>(slf: Bound<'py, Self>, value: &Bound<'py, PyAny>) -> PyResult<Bound<'py, Self>> {
        slf.get().state_update("assign", value, None)?;
        Ok(slf)
    }

    /// Keras's ``Variable.assign_add``: adds ``value`` in place (see ``assign``).
    ///
    /// Args:
    ///     value: a number, an array or a tensor, broadcast to this shape.
    ///
    /// Returns:
    ///     The tensor itself.
    ///
    /// Examples:
    ///     >>> fg.ones(2).assign_add(1.0).tolist()
    ///     [2.0, 2.0]
    fn assign_add<'py>(
        slf: Bound<'py, Self>,
        value: &Bound<'py, PyAny>,
    ) -> PyResult<Bound<'py, Self>> {
        slf.get()
            .state_update("assign_add", value, Some(BinaryOp::Add))?;
        Ok(slf)
    }

    /// Keras's ``Variable.assign_sub``: subtracts ``value`` in place (see ``assign``).
    ///
    /// Args:
    ///     value: a number, an array or a tensor, broadcast to this shape.
    ///
    /// Returns:
    ///     The tensor itself.
    ///
    /// Examples:
    ///     >>> fg.ones(2).assign_sub(1.0).tolist()
    ///     [0.0, 0.0]
    fn assign_sub<'py>(
        slf: Bound<'py, Self>,
        value: &Bound<'py, PyAny>,
    ) -> PyResult<Bound<'py, Self>> {
        slf.get()
            .state_update("assign_sub", value, Some(BinaryOp::Sub))?;
        Ok(slf)
    }

    /// Copies ``src`` (broadcast to this tensor's shape) into this tensor and returns it.
    ///
    /// Args:
    ///     src: a tensor, array or number, broadcast to this tensor's shape.
    ///
    /// Returns:
    ///     The tensor itself, changed in place.
    ///
    /// Examples:
    ///     >>> fg.zeros(2).copy_(fg.tensor([1.0, 2.0]))
    ///     tensor([1., 2.], shape=(2,), dtype=float32)
    fn copy_<'py>(slf: Bound<'py, Self>, src: &Bound<'py, PyAny>) -> PyResult<Bound<'py, Self>> {
        let source = tensor_arg(src, slf.get().inner.dtype())?;
        guarded(|| Ok(slf.get().inner.copy_in_place(&source)?))?;
        Ok(slf)
    }

    /// ``self += alpha * other`` in place; returns the tensor.
    ///
    /// Args:
    ///     other: a number or a tensor, broadcast to this tensor's shape.
    ///     alpha: the factor on ``other`` (default 1).
    ///
    /// Returns:
    ///     The tensor itself, changed in place.
    ///
    /// Examples:
    ///     >>> fg.ones(2).add_(fg.tensor([1.0, 2.0]), alpha=2.0)
    ///     tensor([3., 5.], shape=(2,), dtype=float32)
    #[pyo3(signature = (other, *, alpha=1.0))]
    fn add_<'py>(
        slf: Bound<'py, Self>,
        other: &Bound<'py, PyAny>,
        alpha: f64,
    ) -> PyResult<Bound<'py, Self>> {
        slf.get().in_place(BinaryOp::Add, other, alpha)?;
        Ok(slf)
    }

    /// ``self -= alpha * other`` in place; returns the tensor.
    ///
    /// Args:
    ///     other: a number or a tensor, broadcast to this tensor's shape.
    ///     alpha: the factor on ``other`` (default 1).
    ///
    /// Returns:
    ///     The tensor itself, changed in place.
    ///
    /// Examples:
    ///     >>> fg.ones(2).sub_(fg.tensor([1.0, 2.0]))
    ///     tensor([ 0., -1.], shape=(2,), dtype=float32)
    #[pyo3(signature = (other, *, alpha=1.0))]
    fn sub_<'py>(
        slf: Bound<'py, Self>,
        other: &Bound<'py, PyAny>,
        alpha: f64,
    ) -> PyResult<Bound<'py, Self>> {
        slf.get().in_place(BinaryOp::Sub, other, alpha)?;
        Ok(slf)
    }

    /// ``self *= other`` in place; returns the tensor.
    ///
    /// Args:
    ///     other: a number or a tensor, broadcast to this tensor's shape.
    ///
    /// Returns:
    ///     The tensor itself, changed in place.
    ///
    /// Examples:
    ///     >>> fg.ones(2).mul_(3.0)
    ///     tensor([3., 3.], shape=(2,), dtype=float32)
    fn mul_<'py>(slf: Bound<'py, Self>, other: &Bound<'py, PyAny>) -> PyResult<Bound<'py, Self>> {
        slf.get().in_place(BinaryOp::Mul, other, 1.0)?;
        Ok(slf)
    }

    /// ``self /= other`` in place; returns the tensor.
    ///
    /// Args:
    ///     other: a number or a tensor, broadcast to this tensor's shape.
    ///
    /// Returns:
    ///     The tensor itself, changed in place.
    ///
    /// Examples:
    ///     >>> fg.ones(2).div_(4.0)
    ///     tensor([0.25, 0.25], shape=(2,), dtype=float32)
    fn div_<'py>(slf: Bound<'py, Self>, other: &Bound<'py, PyAny>) -> PyResult<Bound<'py, Self>> {
        slf.get().in_place(BinaryOp::Div, other, 1.0)?;
        Ok(slf)
    }

    /// ``clamp`` in place; returns the tensor.
    ///
    /// Args:
    ///     min: the lower bound, or None for none (default None).
    ///     max: the upper bound, or None for none (default None).
    ///
    /// Returns:
    ///     The tensor itself, changed in place.
    ///
    /// Examples:
    ///     >>> fg.tensor([-2.0, 0.5, 3.0]).clamp_(-1.0, 1.0)
    ///     tensor([-1. ,  0.5,  1. ], shape=(3,), dtype=float32)
    #[pyo3(signature = (min=None, max=None))]
    fn clamp_(
        slf: Bound<'_, Self>,
        min: Option<f64>,
        max: Option<f64>,
    ) -> PyResult<Bound<'_, Self>> {
        let tensor = &slf.get().inner;
        guarded(|| {
            let clipped = {
                let _guard = crate::autograd::no_grad();
                tensor.detach().clip(min, max)?
            };
            Ok(tensor.copy_in_place(&clipped)?)
        })?;
        Ok(slf)
    }

    fn __iadd__(&self, other: &Bound<'_, PyAny>) -> PyResult<()> {
        self.in_place(BinaryOp::Add, other, 1.0)
    }

    fn __isub__(&self, other: &Bound<'_, PyAny>) -> PyResult<()> {
        self.in_place(BinaryOp::Sub, other, 1.0)
    }

    fn __imul__(&self, other: &Bound<'_, PyAny>) -> PyResult<()> {
        self.in_place(BinaryOp::Mul, other, 1.0)
    }

    fn __itruediv__(&self, other: &Bound<'_, PyAny>) -> PyResult<()> {
        self.in_place(BinaryOp::Div, other, 1.0)
    }

    /// `t[index] = value`: writes `value` (broadcast to the selection) in place, with the
    /// indexing rules of `t[index]`.
    fn __setitem__(&self, key: &Bound<'_, PyAny>, value: &Bound<'_, PyAny>) -> PyResult<()> {
        let items = match key.cast::<PyTuple>() {
            Ok(tuple) => tuple
                .iter()
                .map(|i| parse_index_item(&i))
                .collect::<PyResult<Vec<_>>>()?,
            Err(_) => vec![parse_index_item(key)?],
        };
        let value = tensor_arg(value, self.inner.dtype())?;
        guarded(|| Ok(self.inner.assign_index(&items, &value)?))
    }
}

/// The iterator over a tensor's rows.
#[pyclass(name = "TensorIterator", module = "ferrograd", frozen)]
pub struct TensorRows {
    tensor: Tensor,
    next: AtomicUsize,
}

#[pymethods]
impl TensorRows {
    fn __iter__(slf: Py<Self>) -> Py<Self> {
        slf
    }

    fn __next__(&self) -> PyResult<Option<PyTensor>> {
        let row = self.next.fetch_add(1, Ordering::Relaxed);
        if row >= self.tensor.shape()[0] {
            return Ok(None);
        }
        let row = isize::try_from(row).map_err(|_| PyValueError::new_err("row out of range"))?;
        guarded(|| {
            Ok(Some(PyTensor::wrap(
                self.tensor.index(&[IndexItem::Int(row)])?,
            )))
        })
    }
}

/// A shape as Python writes the tuple `x.shape`: `(3, 4)`, `(3,)`, `()`.
fn shape_repr(shape: &[usize]) -> String {
    match shape {
        [single] => format!("({single},)"),
        _ => {
            let dims: Vec<String> = shape.iter().map(ToString::to_string).collect();
            format!("({})", dims.join(", "))
        }
    }
}

impl PyTensor {
    /// Keras's variable updates: `self = value` (`op` None) or `self op= value`, outside the
    /// autograd; refused while a `call()` is traced.
    fn state_update(
        &self,
        name: &str,
        value: &Bound<'_, PyAny>,
        op: Option<BinaryOp>,
    ) -> PyResult<()> {
        if trace::is_recording() {
            return Err(super::errors::ferrograd_error(
                "TracedValueError",
                format!("{name} updates a weight in place, which a traced graph cannot do"),
            ));
        }
        let _no_grad = crate::autograd::no_grad();
        match op {
            None => {
                let source = tensor_arg(value, self.inner.dtype())?;
                let source = if source.shape() == self.inner.shape() {
                    source
                } else {
                    guarded(|| {
                        Ok(source.add(&Tensor::zeros(self.inner.shape(), self.inner.dtype())?)?)
                    })?
                };
                guarded(|| Ok(self.inner.copy_in_place(&source)?))
            }
            Some(op) => self.in_place(op, value, 1.0),
        }
    }

    /// `self op= alpha * other` (alpha only for + and -).
    fn in_place(&self, op: BinaryOp, other: &Bound<'_, PyAny>, alpha: f64) -> PyResult<()> {
        guarded(|| {
            match to_operand(other, &self.inner)? {
                Operand::Scalar(s) => self.inner.scalar_in_place(op, s * alpha)?,
                Operand::Tensor(t) if alpha == 1.0 => self.inner.binary_in_place(op, &t)?,
                Operand::Tensor(t) => {
                    let scaled = t.scalar_op(BinaryOp::Mul, alpha, false)?;
                    self.inner.binary_in_place(op, &scaled)?
                }
            }
            Ok(())
        })
    }

    /// The tensor as the one operand of an op.
    fn one(&self) -> [Tensor; 1] {
        [self.inner.clone()]
    }

    fn unary(&self, f: UnaryFn) -> PyResult<PyTensor> {
        run_op(PrimitiveOp::Unary { function: f }, &self.one())
    }

    fn compare(&self, cmp: Comparison, other: &Bound<'_, PyAny>) -> PyResult<PyTensor> {
        self.compare_operand(cmp, to_operand(other, &self.inner)?)
    }

    fn compare_operand(&self, cmp: Comparison, other: Operand) -> PyResult<PyTensor> {
        let other = match other {
            Operand::Tensor(t) => t,
            Operand::Scalar(s) => Tensor::scalar(s, self.inner.dtype()),
        };
        run_op(
            PrimitiveOp::Compare { comparison: cmp },
            &[self.inner.clone(), other],
        )
    }

    /// `==` and `!=` against what is not numeric (None, a string) give NotImplemented, so that
    /// Python answers by identity as for any object: `t == None` is False, as in PyTorch.
    fn equality(&self, cmp: Comparison, other: &Bound<'_, PyAny>) -> PyResult<Py<PyAny>> {
        let py = other.py();
        match to_operand(other, &self.inner) {
            Ok(operand) => Ok(Py::new(py, self.compare_operand(cmp, operand)?)?.into_any()),
            Err(e) if e.is_instance_of::<PyTypeError>(py) => Ok(py.NotImplemented()),
            Err(e) => Err(e),
        }
    }
}

/// A tensor argument that may also be given as an array-like or a number.
pub fn tensor_arg(obj: &Bound<'_, PyAny>, dtype: crate::dtype::DType) -> PyResult<Tensor> {
    match obj.cast::<PyTensor>() {
        Ok(t) => Ok(t.get().inner.clone()),
        Err(_) => Ok(Tensor::new(to_storage(obj, dtype)?, false)),
    }
}

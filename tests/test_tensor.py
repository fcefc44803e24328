"""The Tensor class from Python: creation, conversion, properties, forward values against numpy,
operators, indexing, threads and the errors each raises."""

import inspect
import os
import subprocess
import sys

import numpy as np
import pytest

import ferrograd as fg
from ferrograd.errors import AutogradError, DTypeError, ShapeError


def assert_float32_close(got, expected):
    """Equal to a float64 reference up to float32 rounding (a few ulps, with the accumulation
    of a sum or a product over a few dozen terms)."""
    assert isinstance(got, fg.Tensor)
    assert got.dtype == np.float32
    np.testing.assert_allclose(got.numpy(), expected, rtol=1e-5, atol=1e-5)


class TestCreation:
    @pytest.mark.parametrize(
        "data",
        [
            [[1, 2, 3], [4, 5, 6]],
            [1.5, -2.0],
            [[True, False]],
            7,
            -2.5,
            True,
            [],
            np.float64(3.25),
            np.int16(-4),
        ],
    )
    def test_lists_and_scalars_give_what_numpy_gives_in_float32(self, data):
        x = fg.tensor(data)
        expected = np.asarray(data, dtype=np.float32)
        assert x.dtype == np.float32
        assert x.shape == expected.shape
        np.testing.assert_array_equal(x.numpy(), expected)

    @pytest.mark.parametrize(
        "dtype",
        [
            np.float16,
            np.float32,
            np.float64,
            np.int8,
            np.int32,
            np.int64,
            np.uint8,
            np.uint64,
            bool,
        ],
    )
    def test_arrays_of_any_float_int_or_bool_dtype(self, dtype, rng):
        values = np.abs(rng.normal(size=(3, 4)) * 10).astype(dtype)
        for name, numpy_dtype in [(None, np.float32), ("float64", np.float64)]:
            x = fg.tensor(values, dtype=name)
            assert x.dtype == numpy_dtype
            np.testing.assert_array_equal(x.numpy(), values.astype(numpy_dtype))

    def test_float64_stays_float64_only_when_asked(self, rng):
        values = rng.normal(size=5)
        assert fg.tensor(values).dtype == np.float32
        for dtype in ("float64", "f64", np.float64, np.dtype("float64"), float):
            x = fg.tensor(values, dtype=dtype)
            assert x.dtype == np.float64
            np.testing.assert_array_equal(x.numpy(), values)
        assert fg.Tensor(values, dtype="float64").dtype == np.float64

    @pytest.mark.parametrize(
        "make",
        [
            lambda a: a.T,
            lambda a: a[::2, 1:],
            lambda a: a[::-1],
            lambda a: a[:, ::-2],
            lambda a: a[::-1, ::-1].T,
            lambda a: np.asfortranarray(a),
            lambda a: np.broadcast_to(a[:1], (4, 6)),
            lambda a: a[:, 2],
        ],
        ids=[
            "transposed",
            "sliced",
            "reversed",
            "reversed-step",
            "both",
            "fortran",
            "0-stride",
            "column",
        ],
    )
    def test_any_strides_give_the_values_numpy_sees(self, make, rng):
        view = make(rng.normal(size=(4, 6)))
        assert not view.flags.c_contiguous or view.ndim == 1
        for dtype in ("float32", "float64"):
            x = fg.tensor(view, dtype=dtype)
            assert x.shape == view.shape
            np.testing.assert_array_equal(x.numpy(), view.astype(dtype))
        single = view.astype(np.float32, order="K")
        np.testing.assert_array_equal(fg.tensor(single[::-1]).numpy(), single[::-1])

    def test_from_a_tensor_copies_it_without_its_graph(self):
        x = fg.tensor([1.0, 2.0], requires_grad=True)
        y = fg.tensor(x * 2, dtype="float64")
        assert y.dtype == np.float64
        assert not y.requires_grad and y.grad_fn is None
        np.testing.assert_array_equal(y.numpy(), [2, 4])
        np.testing.assert_array_equal(fg.tensor([fg.tensor(1.0), 2.0]).numpy(), [1, 2])

    @pytest.mark.parametrize(
        "data",
        ["abc", ["a", "b"], object(), None, {"a": 1}, [[1, 2], [3]], np.ones(2, complex), 1 + 2j],
        ids=["str", "strs", "object", "None", "dict", "ragged", "complex-array", "complex"],
    )
    def test_what_is_not_real_numbers_is_a_type_error(self, data):
        with pytest.raises(TypeError):
            fg.tensor(data)

    @pytest.mark.parametrize(
        "dtype", ["int32", "float16", "complex64", "bfloat16", "nonsense", 5, object]
    )
    def test_an_unknown_dtype_is_a_type_error_that_names_it(self, dtype):
        with pytest.raises(TypeError, match="dtype"):
            fg.tensor([1.0], dtype=dtype)
        with pytest.raises(TypeError, match="dtype"):
            fg.zeros(2, dtype=dtype)


class TestFromNumpy:
    def test_copies_so_that_later_writes_to_the_array_do_not_show(self):
        values = np.arange(6, dtype=np.float32).reshape(2, 3)
        x = fg.tensor(values)
        view = np.asarray(x)
        assert not np.shares_memory(view, values)
        values[0, 0] = 100.0
        assert x.numpy()[0, 0] == 0.0

    def test_reads_arrays_whose_strides_are_not_whole_elements(self):
        base = np.arange(1, 9, dtype=np.float32)
        odd = np.lib.stride_tricks.as_strided(base, shape=(3,), strides=(2,))
        np.testing.assert_array_equal(fg.tensor(odd).numpy(), odd)
        np.testing.assert_array_equal(
            fg.tensor(odd, dtype="float64").numpy(), odd.astype(np.float64)
        )

    def test_reads_unaligned_arrays(self):
        raw = bytearray(b"\0" + np.arange(1, 5, dtype=np.float64).tobytes())
        shifted = np.ndarray((4,), np.float64, buffer=raw, offset=1)
        assert not shifted.flags.aligned
        np.testing.assert_array_equal(fg.tensor(shifted, dtype="float64").numpy(), [1, 2, 3, 4])

    def test_round_trips_more_dimensions_than_rust_numpy_handles(self):
        values = np.arange(6.0).reshape((2,) + (1,) * 38 + (3,))
        x = fg.tensor(values, dtype="float64")
        assert x.shape == values.shape
        np.testing.assert_array_equal(x.numpy(), values)
        np.testing.assert_array_equal(np.asarray(x.sum(axis=-1)), values.sum(axis=-1))
        assert "shape=(2, 1," in repr(fg.zeros(*((2,) + (1,) * 33)))


class TestProperties:
    def test_shape_dtype_ndim_size_and_grad_state(self):
        x = fg.tensor(np.zeros((3, 4)), requires_grad=True)
        assert x.shape == (3, 4) and isinstance(x.shape, tuple)
        assert x.dtype == np.float32 and isinstance(x.dtype, np.dtype)
        assert (x.ndim, x.size, len(x)) == (2, 12, 3)
        assert x.requires_grad and x.is_leaf
        assert x.grad is None and x.grad_fn is None
        scalar = fg.tensor(2.0, dtype="float64")
        assert (scalar.shape, scalar.ndim, scalar.size) == ((), 0, 1)
        assert scalar.dtype == np.float64 and not scalar.requires_grad

    def test_numpy_asarray_and_array_protocol(self, rng):
        values = rng.normal(size=(2, 3)).astype(np.float32)
        x = fg.tensor(values)
        for array in (np.asarray(x), np.array(x), x.numpy(), x.__array__()):
            assert isinstance(array, np.ndarray) and array.dtype == np.float32
            np.testing.assert_array_equal(array, values)
        as_double = np.asarray(x, dtype=np.float64)
        assert as_double.dtype == np.float64
        np.testing.assert_array_equal(as_double, values.astype(np.float64))
        np.testing.assert_array_equal(np.asarray(x, copy=True), values)
        with pytest.raises(ValueError, match="copy"):
            np.asarray(x, copy=False)

    def test_numpy_gives_a_copy(self):
        x = fg.tensor([1.0, 2.0])
        array = x.numpy()
        array[0] = 50.0
        assert x.numpy()[0] == 1.0

    def test_python_numbers_and_lists(self):
        x = fg.tensor([[1.5, -2.0]])
        assert x.tolist() == [[1.5, -2.0]]
        assert fg.tensor([2.75]).item() == 2.75
        assert float(fg.tensor(2.5)) == 2.5
        assert int(fg.tensor(-2.7)) == -2
        assert bool(fg.tensor([1.0])) and not bool(fg.tensor(0.0))
        with pytest.raises(ValueError, match="ambiguous"):
            bool(x)
        with pytest.raises(ShapeError, match=r"\[1, 2\]"):
            x.item()


def test_signatures_show_their_defaults():
    for method in (fg.Tensor.softmax, fg.Tensor.log_softmax):
        assert inspect.signature(method).parameters["axis"].default == -1


class TestFactories:
    def test_constants_take_a_shape_as_arguments_or_a_tuple(self):
        for make, value in ((fg.zeros, 0.0), (fg.ones, 1.0)):
            for x in (make(2, 3), make((2, 3)), make([2, 3])):
                assert x.shape == (2, 3) and x.dtype == np.float32
                np.testing.assert_array_equal(x.numpy(), np.full((2, 3), value))
            assert make(()).shape == ()
            assert make(4, dtype="float64", requires_grad=True).requires_grad
        np.testing.assert_array_equal(fg.full((2, 2), 7.5).numpy(), np.full((2, 2), 7.5))
        assert fg.full(3, -1.0, dtype="float64").dtype == np.float64

    @pytest.mark.parametrize(
        "args", [(5,), (2, 7), (1.5, 4.0, 0.5), (5, 0, -1), (0, 1, 0.1), (3, 3), (-2.5, 2)]
    )
    def test_arange_follows_numpy(self, args):
        for dtype in ("float32", "float64"):
            x = fg.arange(*args, dtype=dtype)
            np.testing.assert_allclose(x.numpy(), np.arange(*args, dtype=np.float64), rtol=1e-7)
            assert x.dtype == dtype

    def test_set_seed_makes_randn_and_rand_repeatable(self):
        fg.set_seed(42)
        first = [fg.randn(3, 4).numpy(), fg.rand(5, dtype="float64").numpy()]
        fg.set_seed(42)
        again = [fg.randn(3, 4).numpy(), fg.rand(5, dtype="float64").numpy()]
        for a, b in zip(first, again, strict=True):
            np.testing.assert_array_equal(a, b)
        fg.set_seed(43)
        assert not np.array_equal(fg.randn(3, 4).numpy(), first[0])

    def test_randn_and_rand_have_their_distributions(self):
        normal = fg.randn(20_000, dtype="float64").numpy()
        assert abs(normal.mean()) < 0.05 and abs(normal.std() - 1) < 0.05
        uniform = fg.rand(100, 200).numpy()
        assert uniform.shape == (100, 200) and uniform.dtype == np.float32
        assert uniform.min() >= 0.0 and uniform.max() < 1.0
        assert abs(uniform.mean() - 0.5) < 0.02
        assert fg.randn(2, requires_grad=True).requires_grad


def numpy_softmax(x, axis):
    shifted = np.exp(x - x.max(axis=axis, keepdims=True))
    return shifted / shifted.sum(axis=axis, keepdims=True)


def numpy_log_softmax(x, axis):
    shifted = x - x.max(axis=axis, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=axis, keepdims=True))


def forward_case(name, ours, reference, *shapes, positive=False):
    return pytest.param(ours, reference, shapes, positive, id=name)


FORWARD_CASES = [
    forward_case("add", lambda a, b: a + b, np.add, (3, 4), (4,)),
    forward_case("subtract", lambda a, b: a - b, np.subtract, (3, 1), (1, 4)),
    forward_case("multiply", lambda a, b: a * b, np.multiply, (2, 3, 4), (3, 1)),
    forward_case("divide", lambda a, b: a / b, np.divide, (3, 4), (3, 4)),
    forward_case("power", lambda a, b: a**b, np.power, (3, 4), (4,), positive=True),
    forward_case("x**2", lambda a: a**2, lambda a: a**2, (5,)),
    forward_case("x**-0.5", lambda a: a**-0.5, lambda a: a**-0.5, (5,), positive=True),
    forward_case("2**x", lambda a: 2**a, lambda a: 2**a, (5,)),
    forward_case("scalar-tensor", lambda a: 1.5 - a, lambda a: 1.5 - a, (5,)),
    forward_case("scalar/tensor", lambda a: 2 / a, lambda a: 2 / a, (5,), positive=True),
    forward_case("negative", lambda a: -a, np.negative, (2, 3)),
    forward_case("matmul", lambda a, b: a @ b, np.matmul, (5, 16), (16, 3)),
    forward_case("matmul-batched", lambda a, b: a @ b, np.matmul, (2, 1, 3, 8), (4, 8, 2)),
    forward_case("matmul-vector", lambda a, b: a @ b, np.matmul, (8,), (2, 8, 3)),
    forward_case("matmul-dot", lambda a, b: a.matmul(b), np.matmul, (8,), (8,)),
    forward_case("exp", lambda a: a.exp(), np.exp, (3, 4)),
    forward_case("log", lambda a: a.log(), np.log, (3, 4), positive=True),
    forward_case("sqrt", lambda a: a.sqrt(), np.sqrt, (3, 4), positive=True),
    forward_case("abs", lambda a: a.abs(), np.abs, (3, 4)),
    forward_case("square", lambda a: a.square(), np.square, (3, 4)),
    forward_case("relu", lambda a: a.relu(), lambda a: np.maximum(a, 0), (3, 4)),
    forward_case("sigmoid", lambda a: a.sigmoid(), lambda a: 1 / (1 + np.exp(-a)), (3, 4)),
    forward_case("tanh", lambda a: a.tanh(), np.tanh, (3, 4)),
    forward_case("softmax", lambda a: a.softmax(), lambda a: numpy_softmax(a, -1), (3, 4)),
    forward_case("softmax-0", lambda a: a.softmax(0), lambda a: numpy_softmax(a, 0), (3, 4)),
    forward_case(
        "log_softmax", lambda a: a.log_softmax(-2), lambda a: numpy_log_softmax(a, -2), (2, 3, 4)
    ),
    forward_case("sum", lambda a: a.sum(), np.sum, (3, 4)),
    forward_case("sum-axis", lambda a: a.sum(axis=-1), lambda a: a.sum(axis=-1), (2, 3, 4)),
    forward_case(
        "sum-axes-keepdims",
        lambda a: a.sum(axis=(0, 2), keepdims=True),
        lambda a: a.sum(axis=(0, 2), keepdims=True),
        (2, 3, 4),
    ),
    forward_case("mean", lambda a: a.mean(axis=1), lambda a: a.mean(axis=1), (2, 3, 4)),
    forward_case(
        "mean-keepdims", lambda a: a.mean(keepdims=True), lambda a: a.mean(keepdims=True), (3, 4)
    ),
    forward_case("max", lambda a: a.max(), np.max, (3, 4)),
    forward_case(
        "max-axes", lambda a: a.max(axis=(-1, 0)), lambda a: a.max(axis=(-1, 0)), (2, 3, 4)
    ),
    forward_case("reshape", lambda a: a.reshape(4, -1), lambda a: a.reshape(4, -1), (2, 3, 4)),
    forward_case(
        "transpose", lambda a: a.transpose(2, 0, 1), lambda a: a.transpose(2, 0, 1), (2, 3, 4)
    ),
    forward_case(".T", lambda a: a.T, lambda a: a.T, (2, 3, 4)),
    forward_case("clip", lambda a: a.clip(-0.5, 0.25), lambda a: np.clip(a, -0.5, 0.25), (3, 4)),
    forward_case(
        "concat",
        lambda a, b: fg.concat([a, b], axis=-1),
        lambda a, b: np.concatenate([a, b], -1),
        (3, 2),
        (3, 4),
    ),
    forward_case(
        "stack",
        lambda a, b: fg.stack([a, b], axis=1),
        lambda a, b: np.stack([a, b], 1),
        (3, 2),
        (3, 2),
    ),
    forward_case(
        "where",
        lambda a, b: fg.where(a > b, a, b),
        lambda a, b: np.where(a > b, a, b),
        (3, 4),
        (4,),
    ),
]


class TestForwardMatchesNumpy:
    @staticmethod
    def inputs(rng, shapes, positive):
        if positive:
            return [rng.uniform(0.2, 3.0, size=s) for s in shapes]
        return [rng.normal(size=s) for s in shapes]

    @pytest.mark.parametrize(("ours", "reference", "shapes", "positive"), FORWARD_CASES)
    def test_float32_to_float32_rounding(self, ours, reference, shapes, positive, rng):
        values = [v.astype(np.float32) for v in self.inputs(rng, shapes, positive)]
        got = ours(*(fg.tensor(v) for v in values))
        expected = reference(*(v.astype(np.float64) for v in values))
        assert got.shape == np.shape(expected)
        assert_float32_close(got, expected)

    @pytest.mark.parametrize(("ours", "reference", "shapes", "positive"), FORWARD_CASES)
    def test_float64_to_float64_rounding(self, ours, reference, shapes, positive, rng):
        values = self.inputs(rng, shapes, positive)
        got = ours(*(fg.tensor(v, dtype="float64") for v in values))
        assert got.dtype == np.float64
        np.testing.assert_allclose(got.numpy(), reference(*values), rtol=1e-12, atol=1e-14)

    def test_extreme_logits_stay_finite_in_log_softmax_softmax_and_sigmoid(self):
        logits = fg.tensor([[1e4, -1e4, 0.0], [-1e4, -1e4, -1e4]], requires_grad=True)
        log_p = logits.log_softmax(-1)
        np.testing.assert_allclose(log_p.numpy(), [[0.0, -2e4, -1e4], [-np.log(3)] * 3], rtol=1e-6)
        p = logits.softmax(-1)
        np.testing.assert_allclose(p.numpy(), [[1, 0, 0], [1 / 3] * 3], rtol=1e-6)
        s = logits.sigmoid()
        np.testing.assert_array_equal(s.numpy(), [[1, 0, 0.5], [0, 0, 0]])
        (log_p.sum() + p.sum() + s.sum()).backward()
        assert np.all(np.isfinite(logits.grad.numpy()))
        for dtype in ("float32", "float64"):
            big = fg.tensor([1e4, -1e4], dtype=dtype)
            assert np.all(np.isfinite(big.log_softmax(0).numpy()))
            assert np.all(np.isfinite(big.sigmoid().numpy()))

    def test_nan_propagates_like_numpy(self):
        x = fg.tensor([np.nan, -1.0, 2.0])
        np.testing.assert_array_equal(x.relu().numpy(), [np.nan, 0, 2])
        np.testing.assert_array_equal(x.clip(0, 1).numpy(), [np.nan, 0, 1])
        assert np.isnan(x.max().item()) and np.isnan(x.sum().item())


class TestOperators:
    def test_numpy_arrays_on_the_left_give_tensors(self, rng):
        values = rng.normal(size=3).astype(np.float32)
        x = fg.tensor(values, requires_grad=True)
        left = np.array([1.0, 2.0, 4.0])
        cases = [
            (left + x, left + values),
            (left - x, left - values),
            (left * x, left * values),
            (left / x, left / values),
            (np.abs(left) ** x, np.abs(left) ** values),
            (left @ x, left @ values),
            (np.ones((2, 3)) @ x, np.ones((2, 3)) @ values),
            (np.float32(2) * x, 2 * values),
            (np.float64(2) - x, 2 - values),
        ]
        for got, expected in cases:
            assert isinstance(got, fg.Tensor), type(got)
            assert got.requires_grad
            assert_float32_close(got, expected)

    def test_python_scalars_and_lists_on_either_side(self):
        x = fg.tensor([1.0, 2.0])
        assert_float32_close(x + 1, [2, 3])
        assert_float32_close(1 - x, [0, -1])
        assert_float32_close(x * [2, 3], [2, 6])
        assert_float32_close([4, 4] / x, [4, 2])
        assert_float32_close(x @ [1, 1], 3.0)
        assert_float32_close([1, 1] @ x, 3.0)
        assert_float32_close(x + True, [2, 3])
        assert_float32_close(+x, [1, 2])

    def test_unary_minus_and_abs(self):
        x = fg.tensor([1.5, -2.0, 0.0], requires_grad=True)
        assert_float32_close(-x, [-1.5, 2, 0])
        assert_float32_close(abs(x), [1.5, 2, 0])
        (-x).sum().backward()
        np.testing.assert_array_equal(x.grad.numpy(), [-1, -1, -1])

    def test_powers_with_a_scalar_or_a_tensor_on_either_side(self):
        x = fg.tensor([1.0, 2.0, 3.0], dtype="float64", requires_grad=True)
        y = fg.tensor([2.0, 0.5, -1.0], dtype="float64", requires_grad=True)
        np.testing.assert_array_equal((x**2).numpy(), [1, 4, 9])
        np.testing.assert_array_equal((2**x).numpy(), [2, 4, 8])
        np.testing.assert_allclose((x**y).numpy(), [1, np.sqrt(2), 1 / 3])
        (x**2 + 2**x + x**y).sum().backward()
        expected_x = (
            2 * x.numpy() + 2 ** x.numpy() * np.log(2) + y.numpy() * x.numpy() ** (y.numpy() - 1)
        )
        np.testing.assert_allclose(x.grad.numpy(), expected_x)
        np.testing.assert_allclose(y.grad.numpy(), x.numpy() ** y.numpy() * np.log(x.numpy()))
        with pytest.raises(TypeError, match="modulus"):
            pow(x, 2, 5)

    def test_a_zero_base_has_a_finite_exponent_gradient(self):
        base = fg.tensor([0.0, 0.0], dtype="float64", requires_grad=True)
        exponent = fg.tensor([0.0, 2.0], dtype="float64", requires_grad=True)
        (base**exponent).sum().backward()
        np.testing.assert_array_equal(exponent.grad.numpy(), [0, 0])
        np.testing.assert_array_equal(base.grad.numpy(), [0, 0])


def index_cases():
    mask_rows = np.array([True, False, True, True])
    mask_2d = np.arange(12).reshape(4, 3) % 3 != 1
    return [
        (1,),
        (-1,),
        (slice(1, 3),),
        (slice(None), 0),
        (slice(None, None, -1),),
        (slice(3, 0, -2), slice(None, None, -1)),
        (slice(-2, None), -1),
        (slice(10, 20),),
        (slice(None, None, 100),),
        (Ellipsis, 1),
        (None,),
        (slice(None), None, 2),
        (None, Ellipsis, None),
        (np.array([2, 0, 2, -1]),),
        ([3, 1],),
        ((3, 1),),
        (1, [0, 2, 0]),
        (slice(None), np.array([2, 2], dtype=np.uint8)),
        (mask_rows,),
        (list(mask_rows),),
        (slice(None), np.array([False, True, True])),
        (mask_2d,),
        ([],),
        (np.int64(2), np.int32(-1)),
    ]


class TestIndexing:
    @pytest.mark.parametrize("key", index_cases(), ids=lambda key: repr(key)[:40])
    def test_selects_what_numpy_selects(self, key):
        values = np.arange(12.0).reshape(4, 3)
        key = key[0] if len(key) == 1 else key
        np.testing.assert_array_equal(fg.tensor(values)[key].numpy(), values[key])

    def test_a_mask_from_a_comparison_selects_elements(self):
        values = np.arange(24.0).reshape(2, 3, 4)
        x = fg.tensor(values)
        for mask in (values > 10, values[:, :, 0] > 5, values.sum(axis=-1) > 20):
            np.testing.assert_array_equal(x[mask].numpy(), values[mask])
        np.testing.assert_array_equal(
            x[..., values[0, 0] > 1].numpy(), values[..., values[0, 0] > 1]
        )
        np.testing.assert_array_equal(x[(x > 10).numpy().astype(bool)].numpy(), values[values > 10])

    @pytest.mark.parametrize(
        "key",
        [4, -5, (0, 3), np.array([0, 4]), [-5], np.array([True, False]), np.ones((4, 2), bool)],
        ids=["row", "negative-row", "column", "array", "negative-array", "short-mask", "mask-2d"],
    )
    def test_out_of_range_is_an_index_error(self, key):
        values = np.arange(12.0).reshape(4, 3)
        with pytest.raises(IndexError):
            values[key]
        with pytest.raises(IndexError, match="out of bounds|does not match"):
            fg.tensor(values)[key]

    def test_too_many_indices_is_an_index_error(self):
        with pytest.raises(IndexError, match="too many indices"):
            fg.zeros(4, 3)[0, 0, 0]

    @pytest.mark.parametrize(
        ("key", "error", "message"),
        [
            (1.5, TypeError, "valid indices; received float 1.5"),
            (True, TypeError, "boolean scalar"),
            ("a", TypeError, "valid indices; received str 'a'"),
            (np.array([0.0, 1.0]), TypeError, "float64"),
            (fg.tensor([0.0, 1.0]), TypeError, "Tensor cannot be an index"),
            ((Ellipsis, Ellipsis), ValueError, "single ellipsis"),
            (slice(None, None, 0), ValueError, "step cannot be zero"),
            (([0, 1], [1, 2]), ValueError, "at most one"),
            (np.zeros((2, 2), int), ValueError, "one-dimensional"),
        ],
    )
    def test_invalid_indices_say_why(self, key, error, message):
        with pytest.raises(error, match=message):
            fg.zeros(4, 3)[key]

    def test_gradients_scatter_back_and_add_up_on_repeats(self):
        x = fg.tensor(np.arange(12.0).reshape(4, 3), requires_grad=True)
        (x[[0, 0, 3]].sum() + x[:, -1].sum() * 10 + x[x.numpy() > 9].sum() * 100).backward()
        expected = np.zeros((4, 3))
        expected[0] += 2
        expected[3] += 1
        expected[:, -1] += 10
        expected[np.arange(12.0).reshape(4, 3) > 9] += 100
        np.testing.assert_array_equal(x.grad.numpy(), expected)


class TestMixedDtypes:
    def test_float32_and_float64_promote_to_float64_in_every_op_that_takes_two(self):
        single, double = fg.tensor([[1.0, 2.0]]), fg.tensor([[3.0], [4.0]], dtype="float64")
        for result in (
            single + double,
            double * single,
            single**double,
            single @ double,
            single < double,
            fg.where([[1.0, 0.0]], single, double),
            fg.concat([single, double.T]),
            fg.stack([single, double.T]),
        ):
            assert result.dtype == np.float64
        assert (single + 1.0).dtype == np.float32
        assert (
            single + np.ones(2)
        ).dtype == np.float32  # an array operand takes the tensor's dtype


class TestComparisons:
    def test_give_zero_one_tensors_without_gradient(self, rng):
        a_values, b_values = rng.normal(size=(3, 4)), rng.normal(size=(4,))
        a = fg.tensor(a_values, dtype="float64", requires_grad=True)
        b = fg.tensor(b_values, dtype="float64")
        cases = [
            (a < b, a_values < b_values),
            (a <= b, a_values <= b_values),
            (a > b, a_values > b_values),
            (a >= b, a_values >= b_values),
            (a == a, np.ones((3, 4), bool)),
            (a != b, a_values != b_values),
            (a > 0.5, a_values > 0.5),
            (a < np.zeros(4), a_values < 0),
            (0.0 < a, 0.0 < a_values),
        ]
        for got, expected in cases:
            assert got.dtype == np.float64
            assert not got.requires_grad
            np.testing.assert_array_equal(got.numpy(), expected.astype(np.float64))

    def test_equality_with_what_is_not_numeric_is_identity(self):
        x = fg.tensor([1.0, 2.0])
        assert (x == None) is False  # noqa: E711 - the operator is what is tested
        assert (x != None) is True  # noqa: E711
        assert (x == "a") is False
        with pytest.raises(TypeError):
            _ = x < None


class TestIteration:
    def test_yields_the_rows_and_they_carry_gradients(self):
        values = np.arange(6.0).reshape(3, 2)
        x = fg.tensor(values, requires_grad=True)
        rows = list(x)
        assert len(rows) == 3
        for row, expected in zip(rows, values, strict=True):
            np.testing.assert_array_equal(row.numpy(), expected)
        (rows[0] * 1 + rows[2] * 3).sum().backward()
        np.testing.assert_array_equal(x.grad.numpy(), [[1, 1], [0, 0], [3, 3]])

    def test_a_zero_dimensional_tensor_is_not_iterable(self):
        with pytest.raises(TypeError, match="0-d"):
            list(fg.tensor(1.0))
        with pytest.raises(TypeError):
            len(fg.tensor(1.0))


class TestRepr:
    @pytest.mark.parametrize(("shape", "written"), [((3, 4), "(3, 4)"), ((3,), "(3,)"), ((), "()")])
    def test_shows_the_shape_as_python_writes_the_tuple(self, shape, written):
        text = repr(fg.zeros(shape))
        assert f"shape={written}" in text
        assert str(fg.zeros(shape).shape) == written

    def test_reads_like_numpy_with_dtype_and_grad_state(self):
        x = fg.tensor([[1.0, 2.0], [3.0, 4.0]], requires_grad=True)
        text = repr(x)
        assert text.startswith("tensor([[1., 2.],\n        [3., 4.]]")
        assert "dtype=float32" in text
        assert "requires_grad=True" in text
        y = x * 2
        assert "grad_fn=multiply" in repr(y)
        assert "requires_grad" not in repr(fg.tensor([1.0], dtype="float64"))
        assert "dtype=float64" in repr(fg.tensor([1.0], dtype="float64"))


def num_threads_in_a_fresh_process(env_value):
    # OMP_NUM_THREADS (which a Dask or joblib test may leave set in this process) makes a
    # process a worker that takes its share of the cores; the default is what is checked here.
    ignored = ("FERROGRAD_NUM_THREADS", "OMP_NUM_THREADS")
    env = {k: v for k, v in os.environ.items() if k not in ignored}
    if env_value is not None:
        env["FERROGRAD_NUM_THREADS"] = env_value
    script = "import ferrograd as fg; print(fg.get_num_threads())"
    done = subprocess.run(
        [sys.executable, "-c", script], env=env, capture_output=True, text=True, check=True
    )
    return int(done.stdout)


@pytest.fixture
def restore_threads():
    before = fg.get_num_threads()
    yield
    fg.set_num_threads(before)


class TestThreadCount:
    def test_the_default_is_the_machines_cores_or_the_environment_variable(self):
        cores = num_threads_in_a_fresh_process(None)
        assert 1 <= cores <= (os.cpu_count() or 1)
        assert num_threads_in_a_fresh_process("3") == 3
        assert num_threads_in_a_fresh_process("0") == cores
        assert num_threads_in_a_fresh_process("many") == cores

    def test_set_num_threads_takes_a_positive_count(self, restore_threads):
        fg.set_num_threads(1)
        assert fg.get_num_threads() == 1
        for bad in (0, -1, 10**6):
            with pytest.raises(ValueError, match=str(bad)):
                fg.set_num_threads(bad)
        assert fg.get_num_threads() == 1
        with pytest.raises(TypeError):
            fg.set_num_threads(1.5)

    def test_a_large_matmul_and_its_gradients_are_bit_identical_on_1_and_2_threads(
        self, restore_threads
    ):
        # Large enough that the product, the elementwise ops and the gradients are split into
        # blocks that run on the pool.
        a_values = np.random.default_rng(1).normal(size=(384, 256)).astype(np.float32)
        b_values = np.random.default_rng(2).normal(size=(256, 320)).astype(np.float32)

        def run(threads):
            fg.set_num_threads(threads)
            a = fg.tensor(a_values, requires_grad=True)
            b = fg.tensor(b_values, requires_grad=True)
            product = a @ b
            loss = ((product * 0.01).tanh() * product).sum()
            loss.backward()
            return [product.numpy(), a.grad.numpy(), b.grad.numpy(), loss.numpy()]

        one, two = run(1), run(2)
        for single, double in zip(one, two, strict=True):
            assert single.tobytes() == double.tobytes()


def raises(call, error, *fragments):
    """Runs `call` and checks the exception: of type `error`, an `Exception` (never pyo3's
    PanicException, which derives from BaseException), with each fragment in its message."""
    try:
        call()
    except BaseException as raised:  # noqa: BLE001 - a panic must be caught to be reported
        assert isinstance(raised, Exception), f"{type(raised).__name__}: {raised}"
        assert type(raised).__name__ != "PanicException", str(raised)
        assert isinstance(raised, error), f"{type(raised).__name__}: {raised}"
        for fragment in fragments:
            assert fragment in str(raised), f"{fragment!r} not in {str(raised)!r}"
        return
    pytest.fail(f"no exception; expected {error.__name__}")


def grad_leaf(*shape):
    return fg.zeros(*shape, requires_grad=True)


ERROR_CASES = [
    # Shapes: each message names the op and both shapes.
    ("matmul", lambda: grad_leaf(3, 4) @ grad_leaf(3, 4), ShapeError, "matmul", "[3, 4]"),
    ("matmul-vectors", lambda: fg.zeros(3) @ fg.zeros(4), ShapeError, "matmul", "[3]", "[4]"),
    (
        "matmul-batch",
        lambda: fg.zeros(2, 3, 4) @ fg.zeros(3, 4, 5),
        ShapeError,
        "matmul",
        "[2]",
        "[3]",
    ),
    ("matmul-0d", lambda: fg.tensor(1.0) @ fg.zeros(2), ShapeError, "matmul", "[]"),
    ("matmul-scalar", lambda: fg.zeros(2) @ 2.0, ValueError, "matmul"),
    ("broadcast-add", lambda: grad_leaf(3, 4) + fg.zeros(3), ShapeError, "add", "[3, 4]", "[3]"),
    (
        "broadcast-mul",
        lambda: fg.zeros(2, 3) * fg.zeros(3, 2),
        ShapeError,
        "multiply",
        "[2, 3]",
        "[3, 2]",
    ),
    ("broadcast-pow", lambda: fg.ones(2) ** fg.ones(3), ShapeError, "power", "[2]", "[3]"),
    ("broadcast-compare", lambda: fg.zeros(2) < fg.zeros(3), ShapeError, "compare", "[2]", "[3]"),
    ("broadcast-array", lambda: fg.zeros(2) - np.ones(3), ShapeError, "subtract", "[2]", "[3]"),
    ("reshape", lambda: grad_leaf(3, 4).reshape(5, 5), ShapeError, "reshape", "[3, 4]", "[5, 5]"),
    (
        "reshape-infer",
        lambda: fg.zeros(3, 4).reshape(5, -1),
        ShapeError,
        "reshape",
        "[3, 4]",
        "[5, -1]",
    ),
    (
        "reshape-two-unknowns",
        lambda: fg.zeros(4).reshape(-1, -1),
        ValueError,
        "reshape",
        "[-1, -1]",
    ),
    (
        "concat",
        lambda: fg.concat([fg.zeros(2, 3), fg.zeros(2, 4)]),
        ShapeError,
        "concat",
        "[2, 3]",
        "[2, 4]",
    ),
    ("concat-0d", lambda: fg.concat([fg.tensor(1.0)]), ValueError, "concat"),
    ("concat-empty", lambda: fg.concat([]), ValueError, "concat"),
    ("stack", lambda: fg.stack([fg.zeros(2), fg.zeros(3)]), ShapeError, "stack", "[2]", "[3]"),
    ("where", lambda: fg.where(fg.ones(4), fg.zeros(3), 1.0), ShapeError, "where", "[4]", "[3]"),
    (
        "backward-gradient",
        lambda: (grad_leaf(2) * 2).backward(np.ones(3)),
        ShapeError,
        "backward",
        "[2]",
        "[3]",
    ),
    (
        "assign-grad",
        lambda: setattr(grad_leaf(2), "grad", np.ones(3)),
        ShapeError,
        "grad",
        "[2]",
        "[3]",
    ),
    ("item", lambda: fg.zeros(2).item(), ShapeError, "item", "[2]"),
    # Axes out of range: the op, the axis and the rank.
    ("sum-axis", lambda: grad_leaf(2, 3).sum(axis=2), ShapeError, "sum", "axis 2", "rank 2"),
    ("mean-axis", lambda: fg.zeros(2, 3).mean(axis=(0, -3)), ShapeError, "mean", "axis -3"),
    ("max-axis", lambda: fg.zeros(2, 3).max(axis=5, keepdims=True), ShapeError, "max", "axis 5"),
    ("softmax-axis", lambda: fg.zeros(2, 3).softmax(axis=2), ShapeError, "softmax", "axis 2"),
    ("log_softmax-axis", lambda: fg.zeros(2).log_softmax(-2), ShapeError, "log_softmax", "axis -2"),
    ("softmax-0d", lambda: fg.tensor(1.0).softmax(), ShapeError, "softmax", "rank 0"),
    ("transpose-axis", lambda: fg.zeros(2, 3).transpose(0, 2), ShapeError, "transpose", "axis 2"),
    ("transpose-count", lambda: fg.zeros(2, 3).transpose(0), ValueError, "transpose", "[0]"),
    (
        "transpose-repeat",
        lambda: fg.zeros(2, 3).transpose(1, 1),
        ValueError,
        "transpose",
        "repeated",
    ),
    (
        "concat-axis",
        lambda: fg.concat([fg.zeros(2), fg.zeros(2)], axis=1),
        ShapeError,
        "concat",
        "axis 1",
    ),
    ("stack-axis", lambda: fg.stack([fg.zeros(2)], axis=-3), ShapeError, "stack", "axis -3"),
    ("sum-repeated-axis", lambda: fg.zeros(2, 3).sum(axis=(1, -1)), ValueError, "sum", "repeated"),
    ("sum-axis-type", lambda: fg.zeros(2).sum(axis="0"), TypeError, "axis"),
    ("max-empty", lambda: fg.zeros(0, 3).max(axis=0), ValueError, "max", "[0, 3]"),
    # Dtypes and values.
    ("unknown-dtype", lambda: fg.tensor([1.0], dtype="int64"), TypeError, "int64", "float32"),
    ("unknown-dtype-astype", lambda: fg.zeros(2).astype("float16"), TypeError, "float16"),
    ("unknown-dtype-randn", lambda: fg.randn(2, dtype=np.int8), TypeError, "int8"),
    ("string-data", lambda: fg.tensor(["a"]), TypeError, "<U1"),
    ("string-operand", lambda: fg.zeros(2) + "a", TypeError, "<U1"),
    ("complex-data", lambda: fg.tensor(np.ones(2, np.complex64)), TypeError, "complex64"),
    ("negative-shape", lambda: fg.zeros(2, -3), ValueError, "negative", "[2, -3]"),
    ("huge-shape", lambda: fg.zeros(2**40, 2**40), MemoryError, "[1099511627776, 1099511627776]"),
    ("huge-arange", lambda: fg.arange(0, 1e17), MemoryError, "arange"),
    ("arange-step", lambda: fg.arange(0, 5, 0), ValueError, "arange", "step=0"),
    ("clip-bounds", lambda: fg.zeros(2).clip(1.0, -1.0), ValueError, "clip", "1", "-1"),
    ("pow-modulus", lambda: pow(fg.ones(2), 2, 3), TypeError, "modulus"),
    ("truth-value", lambda: bool(fg.zeros(2)), ValueError, "ambiguous", "[2]"),
    ("len-0d", lambda: len(fg.tensor(1.0)), TypeError, "0-d"),
    ("copy-false", lambda: np.asarray(fg.zeros(2), copy=False), ValueError, "copy"),
    # Autograd.
    (
        "backward-no-grad",
        lambda: fg.zeros(2).sum().backward(),
        AutogradError,
        "backward",
        "requires_grad",
    ),
    (
        "backward-non-scalar",
        lambda: (grad_leaf(2, 3) * 2).backward(),
        AutogradError,
        "backward",
        "[2, 3]",
    ),
    (
        "requires-grad-non-leaf",
        lambda: setattr(grad_leaf(2) * 2, "requires_grad", False),
        AutogradError,
        "leaf",
    ),
    # Indexing.
    ("index-out-of-range", lambda: fg.zeros(3)[3], IndexError, "3", "size 3"),
    ("index-array-out-of-range", lambda: fg.zeros(3)[[0, -4]], IndexError, "-4", "size 3"),
    ("index-huge-step", lambda: fg.zeros(5)[1 :: sys.maxsize].sum(), None),
    ("index-mask-length", lambda: fg.zeros(3)[[True, False]], IndexError, "mask"),
]


@pytest.mark.parametrize("case", ERROR_CASES, ids=[case[0] for case in ERROR_CASES])
def test_each_error_is_a_python_exception_naming_the_op_and_values(case):
    _, call, error, *fragments = case
    if error is None:
        call()  # once a panic, now a valid call
        return
    raises(call, error, *fragments)


def test_ferrograd_errors_are_also_builtin_errors():
    assert issubclass(ShapeError, ValueError)
    assert issubclass(DTypeError, TypeError)
    assert issubclass(AutogradError, RuntimeError)

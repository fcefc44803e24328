"""The Tensor class from Python: creation, conversion, properties, forward values, indexing,
operators and the errors they raise."""

import ferrograd as fg
import numpy as np
import pytest


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


class TestThreads:
    def test_set_num_threads_takes_a_positive_count(self):
        before = fg.get_num_threads()
        try:
            fg.set_num_threads(1)
            assert fg.get_num_threads() == 1
            for bad in (0, -1, 10**6):
                with pytest.raises(ValueError, match=str(bad)):
                    fg.set_num_threads(bad)
            assert fg.get_num_threads() == 1
            with pytest.raises(TypeError):
                fg.set_num_threads(1.5)
        finally:
            fg.set_num_threads(before)


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

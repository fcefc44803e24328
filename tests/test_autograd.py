"""Autograd from Python: backward, gradient accumulation, graph lifetime, grad mode and which
tensors record a graph."""

import numpy as np
import pytest

import ferrograd as fg
from ferrograd.errors import AutogradError, ShapeError


def test_the_spec_example_gives_the_gradients_of_numpy_by_hand(rng):
    x_values, w_values = rng.normal(size=(3, 4)), rng.normal(size=(4, 2))
    x = fg.tensor(x_values, requires_grad=True)
    w = fg.tensor(w_values, requires_grad=True)
    y = (x @ w).relu().sum()
    y.backward()

    x32, w32 = x_values.astype(np.float32), w_values.astype(np.float32)
    active = (x32 @ w32 > 0).astype(np.float32)
    assert x.grad.dtype == np.float32 and w.grad.dtype == np.float32
    np.testing.assert_allclose(x.grad.numpy(), active @ w32.T, rtol=1e-6)
    np.testing.assert_allclose(w.grad.numpy(), x32.T @ active, rtol=1e-6)
    assert y.item() == pytest.approx(float(np.maximum(x32 @ w32, 0).sum()), rel=1e-6)


class TestAccumulation:
    def test_gradients_add_up_over_backward_calls(self):
        x = fg.tensor([1.0, 2.0, 3.0], requires_grad=True)
        (x * x).sum().backward()
        np.testing.assert_array_equal(x.grad.numpy(), [2, 4, 6])
        (x * 10).sum().backward()
        np.testing.assert_array_equal(x.grad.numpy(), [12, 14, 16])

    def test_setting_grad_to_none_starts_over(self):
        x = fg.tensor([1.0, 2.0], requires_grad=True)
        (x * 3).sum().backward()
        x.grad = None
        assert x.grad is None
        (x * 5).sum().backward()
        np.testing.assert_array_equal(x.grad.numpy(), [5, 5])
        x.zero_grad()
        assert x.grad is None

    def test_grad_can_be_assigned_and_is_accumulated_into(self):
        x = fg.tensor([1.0, 2.0], requires_grad=True)
        x.grad = np.array([100.0, 200.0])
        assert x.grad.dtype == np.float32
        x.sum().backward()
        np.testing.assert_array_equal(x.grad.numpy(), [101, 201])
        with pytest.raises(ShapeError, match=r"\[2\].*\[3\]"):
            x.grad = np.ones(3)

    def test_a_tensor_used_twice_receives_both_contributions(self):
        x = fg.tensor([1.0, -2.0], dtype="float64", requires_grad=True)
        (x * x + x).sum().backward()
        np.testing.assert_array_equal(x.grad.numpy(), [3, -3])

    def test_a_diamond_graph_backpropagates_each_path_once(self):
        x = fg.tensor([2.0], dtype="float64", requires_grad=True)
        a = x * 3
        b = a.exp()
        c = a * a
        (b + c).sum().backward()
        np.testing.assert_allclose(x.grad.numpy(), [3 * np.exp(6.0) + 2 * 6.0 * 3])

    def test_backward_from_a_leaf_gives_one(self):
        x = fg.tensor(3.0, requires_grad=True)
        x.backward()
        assert x.grad.item() == 1.0

    def test_non_leaves_keep_no_grad(self):
        x = fg.tensor([1.0, 2.0], requires_grad=True)
        y = x * 2
        y.sum().backward()
        assert y.grad is None
        assert x.grad is not None


class TestBackwardArguments:
    def test_a_non_scalar_needs_an_explicit_gradient(self):
        x = fg.tensor(np.ones((2, 3)), requires_grad=True)
        y = x * 2
        with pytest.raises(AutogradError, match=r"scalar.*\[2, 3\]") as error:
            y.backward()
        assert isinstance(error.value, RuntimeError)
        y.backward(np.arange(6.0).reshape(2, 3))
        np.testing.assert_array_equal(x.grad.numpy(), 2 * np.arange(6.0).reshape(2, 3))

    def test_the_gradient_may_be_a_tensor_and_must_have_the_output_shape(self):
        x = fg.tensor(np.ones(3), requires_grad=True)
        y = x * 2
        with pytest.raises(ShapeError, match=r"backward.*\[3\].*\[2\]"):
            y.backward(np.ones(2))
        y.backward(fg.tensor([1.0, 0.0, -1.0], dtype="float64"))
        np.testing.assert_array_equal(x.grad.numpy(), [2, 0, -2])

    def test_a_tensor_without_a_graph_cannot_backward(self):
        for y in (
            fg.tensor([1.0]).sum(),
            fg.tensor([1.0]),
            fg.ones(2, requires_grad=True).detach(),
        ):
            with pytest.raises(AutogradError, match="requires_grad=True"):
                y.sum().backward()


class TestGraphLifetime:
    def test_the_graph_is_freed_after_backward(self):
        x = fg.tensor([1.0, 2.0], requires_grad=True)
        y = (x * x).sum()
        y.backward()
        with pytest.raises(AutogradError, match="second time.*retain_graph=True"):
            y.backward()
        np.testing.assert_array_equal(x.grad.numpy(), [2, 4])

    def test_retain_graph_allows_another_backward(self):
        x = fg.tensor([1.0, 2.0], requires_grad=True)
        y = (x * x).sum()
        y.backward(retain_graph=True)
        y.backward(retain_graph=True)
        y.backward()
        np.testing.assert_array_equal(x.grad.numpy(), [6, 12])
        with pytest.raises(AutogradError):
            y.backward()

    def test_a_shared_subgraph_freed_by_one_backward_is_an_error_for_the_other(self):
        x = fg.tensor([1.0], requires_grad=True)
        shared = x.exp()
        first, second = shared * 2, shared * 3
        first.sum().backward()
        with pytest.raises(AutogradError, match="exp"):
            second.sum().backward()

    def test_a_chain_of_100000_ops_backpropagates_without_overflowing_the_stack(self):
        x = fg.tensor([1.0], dtype="float64", requires_grad=True)
        y = x
        for _ in range(100_000):
            y = y + 1.0
        y.sum().backward()
        assert x.grad.item() == 1.0
        assert y.item() == 100_001.0

    def test_a_chain_of_100000_ops_is_freed_without_backward(self):
        x = fg.tensor([1.0], requires_grad=True)
        y = x
        for _ in range(100_000):
            y = y * 1.0
        del y  # dropping the graph node by node, not recursively


class TestRecording:
    def test_nothing_is_recorded_when_no_input_requires_grad(self):
        a, b = fg.tensor([1.0, 2.0]), fg.tensor([3.0, 4.0])
        for y in (a + b, a @ b, (a * 2).exp().sum(), fg.stack([a, b]), a[0]):
            assert not y.requires_grad
            assert y.grad_fn is None
            assert y.is_leaf

    def test_one_input_that_requires_grad_is_enough(self):
        a, b = fg.tensor([1.0, 2.0]), fg.tensor([3.0, 4.0], requires_grad=True)
        y = a * b
        assert y.requires_grad and not y.is_leaf
        assert y.grad_fn == "multiply"
        y.sum().backward()
        assert a.grad is None
        np.testing.assert_array_equal(b.grad.numpy(), [1, 2])

    def test_requires_grad_on_leaves_and_non_leaves(self):
        x = fg.tensor([1.0, 2.0])
        assert not x.requires_grad
        x.requires_grad = True
        y = x * 2
        assert y.requires_grad
        with pytest.raises(AutogradError, match="leaf"):
            y.requires_grad = False
        y.sum().backward()
        np.testing.assert_array_equal(x.grad.numpy(), [2, 2])

    def test_detach_cuts_the_graph_but_shares_the_values(self):
        x = fg.tensor([1.0, 2.0], requires_grad=True)
        d = (x * 3).detach()
        assert not d.requires_grad and d.grad_fn is None and d.is_leaf
        np.testing.assert_array_equal(d.numpy(), [3, 6])
        (x * d).sum().backward()
        np.testing.assert_array_equal(x.grad.numpy(), [3, 6])

    def test_no_grad_as_a_context_manager_records_nothing(self):
        x = fg.tensor([1.0, 2.0], requires_grad=True)
        assert fg.is_grad_enabled()
        with fg.no_grad():
            assert not fg.is_grad_enabled()
            y = (x * 2).exp().sum()
            z = x @ x
        assert fg.is_grad_enabled()
        for t in (y, z):
            assert not t.requires_grad
            assert t.grad_fn is None
            with pytest.raises(AutogradError):
                t.backward()
        assert x.requires_grad

    def test_no_grad_as_a_decorator_records_nothing(self):
        @fg.no_grad()
        def predict(x):
            """Doubles x."""
            assert not fg.is_grad_enabled()
            return x * 2

        x = fg.tensor([1.0], requires_grad=True)
        y = predict(x)
        assert not y.requires_grad and y.grad_fn is None
        assert fg.is_grad_enabled()
        assert predict.__name__ == "predict" and predict.__doc__ == "Doubles x."

    def test_no_grad_nests_and_restores_the_mode_after_an_exception(self):
        with fg.no_grad():
            with fg.no_grad():
                pass
            assert not fg.is_grad_enabled()
        assert fg.is_grad_enabled()
        with pytest.raises(ZeroDivisionError), fg.no_grad():
            1 / 0  # noqa: B018 - raises inside the block
        assert fg.is_grad_enabled()


class TestMixedDtypes:
    def test_float32_with_float64_computes_in_float64_and_each_gradient_keeps_its_dtype(self):
        single = fg.tensor([1.0, 2.0], requires_grad=True)
        double = fg.tensor([3.0, 4.0], dtype="float64", requires_grad=True)
        for y in (
            single * double,
            double - single,
            single @ double,
            fg.where([1, 0], single, double),
        ):
            assert y.dtype == np.float64
        y = (single * double).sum() + (single @ double) + fg.concat([single, double]).sum()
        assert y.dtype == np.float64
        y.backward()
        assert single.grad.dtype == np.float32
        assert double.grad.dtype == np.float64
        np.testing.assert_array_equal(single.grad.numpy(), [7, 9])
        np.testing.assert_array_equal(double.grad.numpy(), [3, 5])

    def test_astype_is_differentiable(self):
        x = fg.tensor([1.5, -2.0], requires_grad=True)
        y = x.astype("float64")
        assert y.dtype == np.float64 and y.grad_fn == "astype"
        (y * y).sum().backward()
        assert x.grad.dtype == np.float32
        np.testing.assert_array_equal(x.grad.numpy(), [3, -4])
        with pytest.raises(TypeError, match="int32"):
            x.astype("int32")

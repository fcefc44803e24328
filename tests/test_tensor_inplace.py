"""The PyTorch user's tensor: PyTorch-named methods, in-place updates under ``no_grad()``
that keep the tensor (and its ``requires_grad``), and the version counter that stops a
backward pass through values changed since they were recorded.

The two manual loops of PyTorch's tutorial "Learning PyTorch with Examples" (a third-order
polynomial fitted to sin(x), with tensors and with autograd) run below with the import
changed to ferrograd; the only other change is the device argument, which ferrograd does not
take.
"""

import math

import numpy as np
import pytest
from gradcheck import check_gradients

import ferrograd as fg
from ferrograd.errors import AutogradError


def test_tutorial_polynomial_fit_with_tensors():
    torch = fg
    dtype = torch.float32

    x = torch.linspace(-math.pi, math.pi, 2000, dtype=dtype)
    y = torch.sin(x)
    a = torch.randn((), dtype=dtype)
    b = torch.randn((), dtype=dtype)
    c = torch.randn((), dtype=dtype)
    d = torch.randn((), dtype=dtype)

    learning_rate = 1e-6
    for _ in range(2000):
        y_pred = a + b * x + c * x**2 + d * x**3
        loss = (y_pred - y).pow(2).sum().item()
        grad_y_pred = 2.0 * (y_pred - y)
        grad_a = grad_y_pred.sum()
        grad_b = (grad_y_pred * x).sum()
        grad_c = (grad_y_pred * x**2).sum()
        grad_d = (grad_y_pred * x**3).sum()
        a -= learning_rate * grad_a
        b -= learning_rate * grad_b
        c -= learning_rate * grad_c
        d -= learning_rate * grad_d
    assert loss < 50.0
    assert b.item() == pytest.approx(0.85, abs=0.05)
    assert d.item() == pytest.approx(-0.092, abs=0.01)


def test_tutorial_polynomial_fit_with_autograd():
    torch = fg
    dtype = torch.float32

    x = torch.linspace(-math.pi, math.pi, 2000, dtype=dtype)
    y = torch.sin(x)
    a = torch.randn((), dtype=dtype, requires_grad=True)
    b = torch.randn((), dtype=dtype, requires_grad=True)
    c = torch.randn((), dtype=dtype, requires_grad=True)
    d = torch.randn((), dtype=dtype, requires_grad=True)
    weights = [a, b, c, d]
    ids = [id(w) for w in weights]

    learning_rate = 1e-6
    for _ in range(2000):
        y_pred = a + b * x + c * x**2 + d * x**3
        loss = (y_pred - y).pow(2).sum()
        loss.backward()
        with torch.no_grad():
            a -= learning_rate * a.grad
            b -= learning_rate * b.grad
            c -= learning_rate * c.grad
            d -= learning_rate * d.grad
            a.grad = None
            b.grad = None
            c.grad = None
            d.grad = None
    assert [id(w) for w in (a, b, c, d)] == ids
    assert all(w.requires_grad and w.is_leaf for w in (a, b, c, d))
    assert loss.item() < 50.0
    assert b.item() == pytest.approx(0.85, abs=0.05)
    assert d.item() == pytest.approx(-0.092, abs=0.01)


def test_tutorial_unsqueeze_pow_features():
    x = fg.linspace(-math.pi, math.pi, 5, dtype=fg.float64)
    p = fg.tensor([1, 2, 3], dtype="float64")
    xx = x.unsqueeze(-1).pow(p)
    np.testing.assert_allclose(xx.numpy(), x.numpy()[:, None] ** np.array([1, 2, 3]))


def test_grad_zero_in_place_and_accumulation():
    w = fg.tensor([1.0, 2.0], dtype="float64", requires_grad=True)
    (w * w).sum().backward()
    grad = w.grad
    np.testing.assert_array_equal(grad.numpy(), [2.0, 4.0])
    with fg.no_grad():
        w.grad.zero_()
    np.testing.assert_array_equal(w.grad.numpy(), [0.0, 0.0])
    (w * 3).sum().backward()
    np.testing.assert_array_equal(w.grad.numpy(), [3.0, 3.0])
    w.grad.zero_()  # a gradient does not require grad: no no_grad() needed
    np.testing.assert_array_equal(w.grad.numpy(), [0.0, 0.0])


def test_setitem_under_no_grad_changes_the_tensor():
    w = fg.tensor(np.zeros((3, 4)), dtype="float64", requires_grad=True)
    with fg.no_grad():
        w[0] = 1.0
        w[1, 1:3] = fg.tensor([5.0, 6.0])
        w[:, -1] = np.array([7.0, 8.0, 9.0])
        w[np.array([False, False, True])] += 2.0
    expected = np.zeros((3, 4))
    expected[0] = 1.0
    expected[1, 1:3] = [5.0, 6.0]
    expected[:, -1] = [7.0, 8.0, 9.0]
    expected[2] += 2.0
    np.testing.assert_array_equal(w.numpy(), expected)
    assert w.requires_grad and w.is_leaf and w.dtype == np.float64
    t = fg.zeros(2, 3)
    t[..., 0] = 4.0  # a tensor without grad needs no no_grad()
    assert t.numpy()[:, 0].tolist() == [4.0, 4.0]
    with pytest.raises(ValueError, match="setitem"):
        t[0] = fg.ones(4)


def test_in_place_methods():
    t = fg.tensor([1.0, -2.0, 3.0], dtype="float64")
    assert t.add_(1.0) is t
    assert t.tolist() == [2.0, -1.0, 4.0]
    t.sub_(fg.tensor([1.0, 1.0, 1.0]), alpha=2.0)
    assert t.tolist() == [0.0, -3.0, 2.0]
    t.mul_(2.0).div_(4.0)
    assert t.tolist() == [0.0, -1.5, 1.0]
    t.clamp_(min=-1.0)
    assert t.tolist() == [0.0, -1.0, 1.0]
    t.fill_(7.0)
    assert t.tolist() == [7.0, 7.0, 7.0]
    t.copy_(np.array([1.0, 2.0, 3.0]))
    assert t.tolist() == [1.0, 2.0, 3.0]
    t.copy_(5.0)
    assert t.tolist() == [5.0, 5.0, 5.0]
    t *= fg.tensor([1.0, 2.0, 3.0])
    t /= 5.0
    t += 1
    assert t.tolist() == [2.0, 3.0, 4.0]
    assert t.dtype == np.float64
    assert t._version == 11
    with pytest.raises(ValueError, match=r"add.*\[3\].*\[2\]"):
        t += fg.ones(2)
    with pytest.raises(ValueError, match="copy_"):
        t.copy_(fg.ones(2))


def test_in_place_on_a_tensor_that_requires_grad_needs_no_grad():
    w = fg.tensor([1.0, 2.0], requires_grad=True)
    for update in (
        lambda: w.add_(1.0),
        lambda: w.zero_(),
        lambda: w.fill_(1.0),
        lambda: w.copy_([0.0, 0.0]),
        lambda: w.__isub__(1.0),
        lambda: w.__setitem__(0, 3.0),
    ):
        with pytest.raises(AutogradError, match="no_grad"):
            update()
    assert w.tolist() == [1.0, 2.0]
    plain = fg.zeros(2)
    with pytest.raises(AutogradError, match="requires grad"):
        plain[0] = w[0]


def test_arithmetic_updates_of_computed_tensors_are_recorded():
    w = fg.tensor([1.0, 2.0], dtype="float64", requires_grad=True)
    total = 0
    for k in (1.0, 2.0, 3.0):
        total += (w * k).sum()  # the first += makes a tensor, the next ones update it
    total *= 2.0
    total.backward()
    np.testing.assert_allclose(w.grad.numpy(), [12.0, 12.0])
    acc = fg.zeros(2, dtype="float64")
    acc.add_(w, alpha=3.0)
    assert acc.requires_grad and not acc.is_leaf
    w.grad = None
    acc.sum().backward()
    np.testing.assert_allclose(w.grad.numpy(), [3.0, 3.0])
    # A computed tensor used by an op before its update cannot be backpropagated through.
    w.grad = None
    y = w * 2.0
    z = y * y
    y += 1.0
    with pytest.raises(AutogradError, match="in-place"):
        z.sum().backward()


def test_backward_through_a_value_changed_in_place_is_refused():
    w = fg.tensor([1.0, 2.0], dtype="float64", requires_grad=True)
    loss = (w * w).sum()
    with fg.no_grad():
        w -= 0.1
    with pytest.raises(AutogradError, match="modified by an in-place operation"):
        loss.backward()
    # Computed again after the change, the graph is fine.
    loss = (w * w).sum()
    loss.backward()
    np.testing.assert_allclose(w.grad.numpy(), [1.8, 3.8])


def test_requires_grad_underscore():
    t = fg.zeros(2)
    assert t.requires_grad_() is t and t.requires_grad
    t.requires_grad_(False)
    assert not t.requires_grad
    with pytest.raises(AutogradError):
        (fg.ones(2, requires_grad=True) * 2).requires_grad_(False)


def test_item_and_tolist():
    t = fg.tensor([[1.5, 2.0]], dtype="float64")
    assert t.tolist() == [[1.5, 2.0]]
    assert t.sum().item() == 3.5
    with pytest.raises(ValueError):
        t.item()


METHODS = {
    "sin": np.sin,
    "cos": np.cos,
    "exp": np.exp,
    "log1p": np.log1p,
    "square": np.square,
    "tan": np.tan,
    "sinh": np.sinh,
    "cosh": np.cosh,
    "expm1": np.expm1,
}


@pytest.mark.parametrize("name", sorted(METHODS))
def test_elementwise_methods(name):
    x = np.random.default_rng(3).uniform(0.1, 1.2, size=(3, 4))
    out = getattr(fg.tensor(x, dtype="float64"), name)()
    np.testing.assert_allclose(out.numpy(), METHODS[name](x), rtol=1e-12)
    check_gradients(lambda t: getattr(t, name)(), x)


def test_sign_floor_pow_clamp_methods():
    x = fg.tensor([-1.5, 0.0, 2.5], dtype="float64")
    assert x.sign().tolist() == [-1.0, 0.0, 1.0]
    assert x.floor().tolist() == [-2.0, 0.0, 2.0]
    assert x.pow(2).tolist() == [2.25, 0.0, 6.25]
    assert x.clamp(min=0.0).tolist() == [0.0, 0.0, 2.5]
    assert x.clamp(max=1.0).tolist() == [-1.5, 0.0, 1.0]
    check_gradients(lambda t: t.pow(fg.tensor([2.0, 3.0], dtype="float64")), [[0.5, 1.5]])


def test_reduction_methods_follow_pytorch():
    x = np.random.default_rng(4).normal(size=(3, 4))
    t = fg.tensor(x, dtype="float64")
    np.testing.assert_allclose(t.var().item(), x.var(ddof=1))
    np.testing.assert_allclose(t.std(dim=1).numpy(), x.std(axis=1, ddof=1))
    np.testing.assert_allclose(t.var(0, correction=0).numpy(), x.var(axis=0))
    np.testing.assert_allclose(t.min(dim=1, keepdim=True).numpy(), x.min(axis=1, keepdims=True))
    np.testing.assert_allclose(t.prod(-1).numpy(), x.prod(axis=-1))
    np.testing.assert_allclose(t.cumsum(dim=0).numpy(), x.cumsum(axis=0))
    np.testing.assert_allclose(t.norm().item(), np.linalg.norm(x))
    np.testing.assert_allclose(t.norm(p=1, dim=1).numpy(), np.abs(x).sum(axis=1))
    assert t.argmax().item() == np.argmax(x)
    np.testing.assert_array_equal(t.argmax(dim=1).numpy(), np.argmax(x, axis=1))
    np.testing.assert_array_equal(t.argmin(1).numpy(), np.argmin(x, axis=1))
    for method in ("var", "std", "min", "prod"):
        check_gradients(lambda v, m=method: getattr(v, m)(dim=-1), x)
    check_gradients(lambda v: v.norm(p=3, dim=0), x)
    with pytest.raises(TypeError, match="not both"):
        t.min(axis=0, dim=0)

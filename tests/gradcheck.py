"""A float64 central-difference check of ferrograd's gradients.

The checked objective is ``sum(f(*inputs) * weights)`` with fixed random weights, so that every
output element enters with its own coefficient (a plain sum would hide a gradient that is right
only in total). Its analytic gradient comes from ``backward``; the numeric one moves each input
element by ``±EPS`` and evaluates ``f`` again under ``no_grad``.
"""

from collections.abc import Callable, Sequence

import numpy as np

import ferrograd as fg

EPS = 1e-6
RTOL = 1e-6
ATOL = 1e-8


def numeric_gradients(
    f: Callable[..., fg.Tensor], arrays: Sequence[np.ndarray], weights: np.ndarray
) -> list[np.ndarray]:
    """Central differences of ``sum(f(*arrays) * weights)`` with respect to each array."""

    def objective(values: Sequence[np.ndarray]) -> float:
        with fg.no_grad():
            out = f(*(fg.tensor(v, dtype="float64") for v in values)).numpy()
        return float(np.sum(out * weights))

    gradients = []
    for which, array in enumerate(arrays):
        gradient = np.zeros_like(array)
        for position in np.ndindex(array.shape):
            moved = [a.copy() for a in arrays]
            moved[which][position] = array[position] + EPS
            above = objective(moved)
            moved[which][position] = array[position] - EPS
            below = objective(moved)
            gradient[position] = (above - below) / (2 * EPS)
        gradients.append(gradient)
    return gradients


def check_gradients(f: Callable[..., fg.Tensor], *inputs: np.ndarray, seed: int = 0) -> None:
    """Asserts that the gradients ``backward`` gives ``f`` at ``inputs`` match central
    differences: ``|analytic - numeric| <= ATOL + RTOL * |numeric|`` element by element."""
    arrays = [np.array(a, dtype=np.float64) for a in inputs]
    tensors = [fg.tensor(a, dtype="float64", requires_grad=True) for a in arrays]
    out = f(*tensors)
    assert out.dtype == np.float64, f"f gave {out.dtype} for float64 inputs"
    weights = np.random.default_rng(seed).uniform(-1.0, 1.0, size=out.shape)
    (out * fg.tensor(weights, dtype="float64")).sum().backward()

    expected = numeric_gradients(f, arrays, weights)
    for which, (tensor, numeric) in enumerate(zip(tensors, expected, strict=True)):
        assert tensor.grad is not None, f"input {which} received no gradient"
        analytic = tensor.grad.numpy()
        assert analytic.dtype == np.float64
        assert analytic.shape == numeric.shape, f"input {which}: gradient of the wrong shape"
        error = np.abs(analytic - numeric)
        allowed = ATOL + RTOL * np.abs(numeric)
        if not np.all(error <= allowed):
            worst = np.unravel_index(np.argmax(error - allowed), error.shape)
            raise AssertionError(
                f"input {which} (shape {numeric.shape}), element {worst}: analytic "
                f"{analytic[worst]!r} vs numeric {numeric[worst]!r}\n"
                f"analytic:\n{analytic}\nnumeric:\n{numeric}"
            )

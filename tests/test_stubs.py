"""The type stubs of ``ferrograd._core`` agree with the built module (``mypy.stubtest``), and
typical code type-checks against them (``mypy --strict``)."""

import os
import subprocess
import sys
import textwrap

import pytest

pytest.importorskip("mypy")


@pytest.fixture
def mypy_env(request, tmp_path_factory):
    """mypy's cache under pytest's (ignored by git), so that a second run takes seconds; a
    temporary one when pytest runs without its cache (`-p no:cacheprovider`)."""
    cache = getattr(request.config, "cache", None)
    folder = cache.mkdir("mypy") if cache is not None else tmp_path_factory.mktemp("mypy")
    return {**os.environ, "MYPY_CACHE_DIR": str(folder)}


def run(command, env, cwd):
    done = subprocess.run(
        [sys.executable, "-m", *command], env=env, cwd=cwd, capture_output=True, text=True
    )
    return done.returncode, done.stdout + done.stderr


def test_stubtest_finds_no_difference_between_the_stubs_and_the_module(mypy_env, tmp_path):
    # No allowlist: every name, signature and default of the module must match the stubs.
    code, output = run(["mypy.stubtest", "ferrograd._core"], mypy_env, tmp_path)
    assert code == 0, output


USAGE = """
    from typing import Any

    import numpy as np
    import numpy.typing as npt
    from typing_extensions import assert_type

    import ferrograd as fg

    x = fg.tensor(np.random.randn(3, 4), requires_grad=True)
    w = fg.tensor([[1.0], [2.0], [3.0], [4.0]], dtype="float64", requires_grad=True)
    y = (x @ w).relu().sum()
    y.backward(retain_graph=True)
    assert_type(y, fg.Tensor)
    grad = x.grad
    assert grad is not None
    assert_type(grad.numpy(), npt.NDArray[np.float32 | np.float64])
    assert_type(x.shape, tuple[int, ...])
    assert_type(x.item() if x.size == 1 else 0.0, float)
    assert_type(x[1:3, 0], fg.Tensor)
    assert_type(x[np.array([0, 2])], fg.Tensor)
    assert_type(x[..., None, [True, False, True, True]], fg.Tensor)
    assert_type(2.0 * x - 1, fg.Tensor)
    assert_type(-x ** 2 / x, fg.Tensor)
    assert_type(x > 0, fg.Tensor)
    assert_type(x == x, fg.Tensor)
    assert_type(fg.concat([x, w.T], axis=-1), fg.Tensor)
    assert_type(fg.where(x > 0, x, 0.0), fg.Tensor)
    assert_type(x.sum(axis=(0, -1), keepdims=True).mean(), fg.Tensor)
    assert_type(x.reshape(2, -1).T.transpose(1, 0).reshape((3, 4)), fg.Tensor)
    assert_type(x.log_softmax(axis=0).clip(min=-1.0), fg.Tensor)
    assert_type(list(x), list[fg.Tensor])
    assert_type(np.asarray(x), npt.NDArray[Any])
    with fg.no_grad():
        z = fg.zeros(2, 3, dtype=np.float64) + fg.randn((2, 3))
    x.grad = None
    x.requires_grad = False
    fg.set_seed(0)
    fg.set_num_threads(fg.get_num_threads())
    threads: int = fg.get_num_threads()
    grad_fn: str | None = z.grad_fn
"""


def test_typical_code_type_checks_strictly_against_the_stubs(mypy_env, tmp_path):
    script = tmp_path / "usage.py"
    script.write_text(textwrap.dedent(USAGE))
    code, output = run(["mypy", "--strict", str(script)], mypy_env, tmp_path)
    assert code == 0, output

"""Initializers: one Python class per file, named as its Rust initializer, found by name."""

from pathlib import Path

import numpy as np
import pytest

import ferrograd as fg
from ferrograd.initializers.initializer import _REGISTRY


def test_one_registered_class_per_file_named_as_its_rust_initializer():
    package = Path(fg.initializers.__file__).parent
    files = {p.stem for p in package.glob("*.py")} - {"__init__", "initializer"}
    assert set(_REGISTRY) == files
    rust = Path(__file__).parents[1] / "src" / "initializers"
    for name, cls in _REGISTRY.items():
        assert cls.__module__ == f"ferrograd.initializers.{name}"
        assert getattr(fg.initializers, cls.__name__) is cls
        assert (rust / f"{name}.rs").is_file(), name


@pytest.mark.parametrize("name", sorted(_REGISTRY))
def test_every_initializer_draws_through_rust_by_either_name(name):
    cls = _REGISTRY[name]
    fg.set_seed(5)
    a = fg.initializers.get(name)((4, 3)).numpy()
    fg.set_seed(5)
    b = fg.initializers.get(cls.__name__)((4, 3)).numpy()
    assert a.shape == (4, 3) and np.array_equal(a, b)


def test_settings_and_unknown_names():
    init = fg.initializers.get({"name": "random_uniform", "minval": 1.0, "maxval": 2.0})
    values = init((50,)).numpy()
    assert ((values >= 1.0) & (values < 2.0)).all()
    with pytest.raises(ValueError, match="glorot_uniform"):
        fg.initializers.get("xavier")


def test_docstring_examples_run():
    import doctest

    from ferrograd.initializers import initializer

    for module in (fg.initializers, initializer):
        result = doctest.testmod(module, extraglobs={"fg": fg})
        assert result.attempted > 0 and result.failed == 0, module.__name__

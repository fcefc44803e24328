"""The base class of the initializers and the registry of the built-in ones (filled as each
initializer's module defines its class)."""

from __future__ import annotations

import json
from typing import Any

from ferrograd import _core

_REGISTRY: dict[str, type[Initializer]] = {}
"""The built-in initializers by their config name (``"glorot_uniform"``)."""


class Initializer:
    """Base class: ``initializer(shape, dtype=None)`` returns a new tensor.

    A subclass in ``ferrograd.initializers`` sets ``_name``, the name of its Rust initializer
    (``src/initializers/<name>.rs``), and ``get_config()``, its arguments; the draw runs in Rust.

    Args:
        shape: (of a call) the shape of the tensor to make, a tuple of ints.
        dtype: (of a call) ``"float32"`` or ``"float64"``; None means float32 (default None).

    Examples:
        >>> w = fg.initializers.GlorotUniform()((3, 2))
        >>> w.shape
        (3, 2)
    """

    _name = ""

    def __init_subclass__(cls, **kwargs: Any) -> None:
        """Registers the initializers of ``ferrograd.initializers`` by name, for ``get``."""
        super().__init_subclass__(**kwargs)
        if cls.__module__.startswith(__package__ + ".") and cls._name:
            _REGISTRY[cls._name] = cls

    def get_config(self) -> dict:
        """The constructor's arguments (none for the base class and the parameterless ones).

        Returns:
            A dict of the arguments, for saving and ``get``.

        Examples:
            >>> fg.initializers.GlorotUniform().get_config()
            {}
        """
        return {}

    def _settings(self) -> dict:
        """The description the Rust core builds from."""
        return {"name": self._name, **self.get_config()}

    def __call__(self, shape, dtype=None):
        return _core.initialize(json.dumps(self._settings()), list(shape), dtype)

    def __repr__(self):
        args = ", ".join(f"{k}={v!r}" for k, v in self.get_config().items())
        return f"{type(self).__name__}({args})"


class RandomInitializer(Initializer):
    """Base class of the initializers that draw random values.

    Args:
        seed: None (the default) draws from the library's generator (``fg.set_seed``); an
            integer draws from a generator of that seed, so that every call gives the same
            values, as a seeded Keras 3 initializer does.

    Examples:
        >>> init = fg.initializers.GlorotUniform(seed=1)
        >>> bool((init((3, 2)).numpy() == init((3, 2)).numpy()).all())
        True
    """

    def __init__(self, seed=None):
        if seed is not None and (
            isinstance(seed, bool) or not isinstance(seed, int) or not 0 <= seed < 2**64
        ):
            raise ValueError(
                f"{type(self).__name__}: seed must be None or a non-negative integer. "
                f"Received: seed={seed!r}"
            )
        self.seed = seed

    def get_config(self) -> dict:
        """The seed, when one was given (``{"seed": 1}``), else an empty dict.

        Returns:
            A dict of the constructor's arguments.

        Examples:
            >>> fg.initializers.GlorotUniform(seed=1).get_config()
            {'seed': 1}
        """
        return {} if self.seed is None else {"seed": self.seed}

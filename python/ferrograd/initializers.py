"""Weight initializers, with Keras's names and defaults.

Every draw comes from the library's generator, so ``fg.set_seed(n)`` makes them repeatable.

Example:
    >>> layer = fg.layers.Dense(64, kernel_initializer="he_normal")
    >>> w = fg.initializers.GlorotUniform()((784, 64))
"""

import json

from ferrograd import _core


class Initializer:
    """Base class: ``initializer(shape, dtype=None)`` returns a new tensor."""

    _name = ""

    def get_config(self) -> dict:
        return {}

    def _settings(self) -> dict:
        """The description the Rust core builds from."""
        return {"name": self._name, **self.get_config()}

    def __call__(self, shape, dtype=None):
        return _core.initialize(json.dumps(self._settings()), list(shape), dtype)

    def __repr__(self):
        args = ", ".join(f"{k}={v!r}" for k, v in self.get_config().items())
        return f"{type(self).__name__}({args})"


class Zeros(Initializer):
    _name = "zeros"


class Ones(Initializer):
    _name = "ones"


class Constant(Initializer):
    _name = "constant"

    def __init__(self, value=0.0):
        self.value = float(value)

    def get_config(self):
        return {"value": self.value}


class RandomNormal(Initializer):
    _name = "random_normal"

    def __init__(self, mean=0.0, stddev=0.05):
        self.mean, self.stddev = float(mean), float(stddev)

    def get_config(self):
        return {"mean": self.mean, "stddev": self.stddev}


class TruncatedNormal(RandomNormal):
    """Normal draws redrawn until within two standard deviations of the mean."""

    _name = "truncated_normal"


class RandomUniform(Initializer):
    _name = "random_uniform"

    def __init__(self, minval=-0.05, maxval=0.05):
        self.minval, self.maxval = float(minval), float(maxval)

    def get_config(self):
        return {"minval": self.minval, "maxval": self.maxval}


class GlorotUniform(Initializer):
    """Uniform in ``[-limit, limit]`` with ``limit = sqrt(6 / (fan_in + fan_out))`` (the Keras
    default for kernels)."""

    _name = "glorot_uniform"


class GlorotNormal(Initializer):
    """Truncated normal with ``stddev = sqrt(2 / (fan_in + fan_out))``."""

    _name = "glorot_normal"


class HeNormal(Initializer):
    """Truncated normal with ``stddev = sqrt(2 / fan_in)`` (for ReLU networks)."""

    _name = "he_normal"


class HeUniform(Initializer):
    """Uniform with ``limit = sqrt(6 / fan_in)``."""

    _name = "he_uniform"


class LecunNormal(Initializer):
    _name = "lecun_normal"


class LecunUniform(Initializer):
    _name = "lecun_uniform"


class Orthogonal(Initializer):
    """A random orthogonal matrix times ``gain`` (Keras's default for recurrent kernels)."""

    _name = "orthogonal"

    def __init__(self, gain=1.0):
        self.gain = float(gain)

    def get_config(self):
        return {"gain": self.gain}


_CLASSES = {
    cls._name: cls
    for cls in (
        Zeros,
        Ones,
        Constant,
        RandomNormal,
        TruncatedNormal,
        RandomUniform,
        GlorotUniform,
        GlorotNormal,
        HeNormal,
        HeUniform,
        LecunNormal,
        LecunUniform,
        Orthogonal,
    )
}
_ALIASES = {cls.__name__.lower(): name for name, cls in _CLASSES.items()}


def get(identifier) -> Initializer:
    """An initializer from a name (``"he_normal"``, ``"HeNormal"``), an instance, or a dict
    ``{"name": ..., **settings}``."""
    if isinstance(identifier, Initializer):
        return identifier
    if isinstance(identifier, dict):
        settings = dict(identifier)
        return _class_of(settings.pop("name"))(**settings)
    if isinstance(identifier, str):
        return _class_of(identifier)()
    raise TypeError(f"expected an initializer name or instance, received {identifier!r}")


def _class_of(name: str) -> type:
    key = _ALIASES.get(name.lower(), name.lower())
    if key not in _CLASSES:
        raise ValueError(f"Unknown initializer {name!r}. Known initializers: {', '.join(_CLASSES)}")
    return _CLASSES[key]


__all__ = [
    "Constant",
    "GlorotNormal",
    "GlorotUniform",
    "HeNormal",
    "HeUniform",
    "Initializer",
    "LecunNormal",
    "LecunUniform",
    "Ones",
    "Orthogonal",
    "RandomNormal",
    "RandomUniform",
    "TruncatedNormal",
    "Zeros",
    "get",
]

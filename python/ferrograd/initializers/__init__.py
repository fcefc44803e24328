"""Weight initializers, with Keras's names and defaults; one file per initializer, as in Rust.

Every draw comes from the library's generator, so ``fg.set_seed(n)`` makes them repeatable; an
initializer given a ``seed`` draws from a generator of its own seeded so, and gives the same
values at every call, as Keras 3's seeded initializers do.

Examples:
    >>> layer = fg.layers.Dense(64, kernel_initializer="he_normal")
    >>> w = fg.initializers.GlorotUniform()((784, 64))
"""

from ferrograd.initializers.constant import Constant
from ferrograd.initializers.glorot_normal import GlorotNormal
from ferrograd.initializers.glorot_uniform import GlorotUniform
from ferrograd.initializers.he_normal import HeNormal
from ferrograd.initializers.he_uniform import HeUniform
from ferrograd.initializers.initializer import _REGISTRY, Initializer, RandomInitializer
from ferrograd.initializers.lecun_normal import LecunNormal
from ferrograd.initializers.lecun_uniform import LecunUniform
from ferrograd.initializers.ones import Ones
from ferrograd.initializers.orthogonal import Orthogonal
from ferrograd.initializers.random_normal import RandomNormal
from ferrograd.initializers.random_uniform import RandomUniform
from ferrograd.initializers.truncated_normal import TruncatedNormal
from ferrograd.initializers.variance_scaling import VarianceScaling
from ferrograd.initializers.zeros import Zeros


def get(identifier) -> Initializer:
    """An initializer from an identifier.

    Args:
        identifier: An ``Initializer`` (returned as is), a name (the config name or the class
            name, in any case: ``"he_normal"``, ``"HeNormal"``), or a dict
            ``{"name": ..., **settings}``.

    Returns:
        An ``Initializer``.

    Raises:
        ValueError: For an unknown name (the message lists the known ones).
        TypeError: For anything else.

    Examples:

    >>> fg.initializers.get({"name": "orthogonal", "gain": 2.0})
    Orthogonal(gain=2.0)
    """
    if isinstance(identifier, Initializer):
        return identifier
    if isinstance(identifier, dict):
        settings = dict(identifier)
        return _class_of(settings.pop("name"))(**settings)
    if isinstance(identifier, str):
        return _class_of(identifier)()
    raise TypeError(f"expected an initializer name or instance, received {identifier!r}")


def _class_of(name: str) -> type:
    aliases = {cls.__name__.lower(): key for key, cls in _REGISTRY.items()}
    key = aliases.get(name.lower(), name.lower())
    if key not in _REGISTRY:
        raise ValueError(
            f"Unknown initializer {name!r}. Known initializers: {', '.join(_REGISTRY)}"
        )
    return _REGISTRY[key]


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
    "RandomInitializer",
    "RandomNormal",
    "RandomUniform",
    "TruncatedNormal",
    "VarianceScaling",
    "Zeros",
    "get",
]

"""Optimizers and learning-rate schedules (Keras names, arguments and defaults).

```python
opt = fg.optimizers.Adam(learning_rate=1e-3)
loss.backward()
opt.apply_gradients(zip([w.grad for w in model.trainable_weights], model.trainable_weights))
```

``fg.optimizers.get("adam")`` returns an optimizer from its name (any case), a config dict or an
instance, as ``compile(optimizer=...)`` accepts.
"""

from __future__ import annotations

from typing import Any

from ferrograd.optimizers import schedules
from ferrograd.optimizers.adadelta import Adadelta
from ferrograd.optimizers.adagrad import Adagrad
from ferrograd.optimizers.adam import Adam
from ferrograd.optimizers.adamax import Adamax
from ferrograd.optimizers.adamw import AdamW
from ferrograd.optimizers.lion import Lion
from ferrograd.optimizers.nadam import Nadam
from ferrograd.optimizers.optimizer import _REGISTRY, Optimizer
from ferrograd.optimizers.rmsprop import RMSprop
from ferrograd.optimizers.sgd import SGD


def _class_of(name: str, custom_objects: dict[str, Any] | None = None) -> type[Optimizer]:
    if custom_objects and name in custom_objects:
        return custom_objects[name]
    cls = _REGISTRY.get(name.lower())
    if cls is None:
        raise ValueError(
            f"Could not interpret optimizer identifier: {name!r}. Known optimizers: "
            f"{', '.join(sorted(_REGISTRY))}."
        )
    return cls


def serialize(optimizer: Optimizer) -> dict[str, Any]:
    """The optimizer as ``{"class_name": ..., "config": ...}`` (Keras's format, without state).

    Args:
        optimizer: an optimizer.

    Returns:
        A JSON-ready dict.

    Examples:
        >>> config = fg.optimizers.serialize(fg.optimizers.SGD(learning_rate=0.1))
        >>> config["class_name"], config["config"]["learning_rate"]
        ('SGD', 0.1)
    """
    return {"class_name": type(optimizer).__name__, "config": optimizer.get_config()}


def deserialize(config: dict[str, Any], custom_objects: dict[str, Any] | None = None) -> Optimizer:
    """The optimizer described by ``serialize``'s output.

    Args:
        config: ``{"class_name": ..., "config": ...}``.
        custom_objects: user-defined optimizer or schedule classes by name (default None).

    Returns:
        A new optimizer (without the state).

    Raises:
        ValueError: ``config`` is not such a dict, or names an unknown optimizer.

    Examples:
        >>> config = fg.optimizers.serialize(fg.optimizers.SGD(learning_rate=0.1))
        >>> fg.optimizers.deserialize(config)
        <SGD name='SGD' learning_rate=0.1 iterations=0>
    """
    if not isinstance(config, dict) or "class_name" not in config:
        raise ValueError(
            "A serialized optimizer is a dict with 'class_name' and 'config'. "
            f"Received: config={config!r}"
        )
    cls = _class_of(str(config["class_name"]), custom_objects)
    return cls.from_config(dict(config.get("config") or {}), custom_objects=custom_objects)


def get(identifier: Any) -> Optimizer | None:
    """An optimizer from an identifier.

    Args:
        identifier: An ``Optimizer`` (returned as is), a name (the class name in any case:
            ``"adam"``, ``"Adam"``, ``"sgd"``, ``"rmsprop"``, ``"adamw"``, ...; Keras's
            defaults), a dict ``{"class_name": ..., "config": ...}``, or ``None``.

    Returns:
        An ``Optimizer``, or ``None`` for ``None``.

    Examples:

    >>> fg.optimizers.get("adam").learning_rate
    0.001
    """
    if identifier is None or isinstance(identifier, Optimizer):
        return identifier
    if isinstance(identifier, str):
        return _class_of(identifier)()
    if isinstance(identifier, dict):
        return deserialize(identifier)
    raise ValueError(f"Could not interpret optimizer identifier: {identifier!r}")


__all__ = [
    "SGD",
    "Adadelta",
    "Adagrad",
    "Adam",
    "AdamW",
    "Adamax",
    "Lion",
    "Nadam",
    "Optimizer",
    "RMSprop",
    "deserialize",
    "get",
    "schedules",
    "serialize",
]

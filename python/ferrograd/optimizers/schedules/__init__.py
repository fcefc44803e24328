"""Learning-rate schedules (Keras names, arguments and formulas).

A schedule maps the optimizer's step (the number of updates made so far) to a learning rate.
Pass one as any optimizer's ``learning_rate``:

```python
schedule = fg.optimizers.schedules.ExponentialDecay(
    initial_learning_rate=0.1, decay_steps=1000, decay_rate=0.96, staircase=True
)
opt = fg.optimizers.SGD(learning_rate=schedule)
```

The built-in schedules are evaluated in Rust inside the update step. A subclass of
``LearningRateSchedule`` that defines its own ``__call__(step)`` works too, but is evaluated in
Python before every update, which is slower.
"""

from __future__ import annotations

from typing import Any

from ferrograd.optimizers.schedules.cosine_decay import CosineDecay
from ferrograd.optimizers.schedules.exponential_decay import ExponentialDecay
from ferrograd.optimizers.schedules.inverse_time_decay import InverseTimeDecay
from ferrograd.optimizers.schedules.learning_rate_schedule import (
    _REGISTRY,
    LearningRateSchedule,
)
from ferrograd.optimizers.schedules.piecewise_constant_decay import PiecewiseConstantDecay
from ferrograd.optimizers.schedules.polynomial_decay import PolynomialDecay
from ferrograd.optimizers.schedules.step_decay import StepDecay


def serialize(schedule: LearningRateSchedule) -> dict[str, Any]:
    """The schedule as ``{"class_name": ..., "config": ...}`` (Keras's format).

    Args:
        schedule: a ``LearningRateSchedule`` whose ``get_config`` works.

    Returns:
        A JSON-ready dict.

    Examples:
        >>> schedule = fg.optimizers.schedules.ExponentialDecay(0.1, 10, 0.5)
        >>> fg.optimizers.schedules.serialize(schedule)["class_name"]
        'ExponentialDecay'
    """
    return {"class_name": type(schedule).__name__, "config": schedule.get_config()}


def deserialize(
    config: dict[str, Any], custom_objects: dict[str, Any] | None = None
) -> LearningRateSchedule:
    """The schedule described by ``serialize``'s output.

    Args:
        config: ``{"class_name": ..., "config": ...}``.
        custom_objects: the names of user-defined schedules mapped to their classes
            (default None).

    Returns:
        A new schedule.

    Raises:
        ValueError: ``config`` is not such a dict, or names an unknown schedule.

    Examples:
        >>> schedule = fg.optimizers.schedules.ExponentialDecay(0.1, 10, 0.5)
        >>> fg.optimizers.schedules.deserialize(fg.optimizers.schedules.serialize(schedule))
        ExponentialDecay(initial_learning_rate=0.1, decay_steps=10, decay_rate=0.5, staircase=False)
    """
    if not isinstance(config, dict) or "class_name" not in config:
        raise ValueError(
            "A serialized schedule is a dict with 'class_name' and 'config'. "
            f"Received: config={config!r}"
        )
    name = config["class_name"]
    cls = (custom_objects or {}).get(name) or _REGISTRY.get(name)
    if cls is None:
        raise ValueError(
            f"Unknown learning rate schedule: {name!r}. Known schedules: "
            f"{', '.join(sorted(_REGISTRY))} (pass others in `custom_objects`)."
        )
    return cls.from_config(dict(config.get("config", {})))


__all__ = [
    "CosineDecay",
    "ExponentialDecay",
    "InverseTimeDecay",
    "LearningRateSchedule",
    "PiecewiseConstantDecay",
    "PolynomialDecay",
    "StepDecay",
    "deserialize",
    "serialize",
]

"""The base class of learning-rate schedules, the base of those evaluated in Rust, and the
registry of the built-in ones (filled as each schedule's module defines its class)."""

from __future__ import annotations

import json
import math
import numbers
from typing import Any

from ferrograd import _core

_REGISTRY: dict[str, type[LearningRateSchedule]] = {}
"""The built-in schedules by class name (``"ExponentialDecay"``)."""


def _number(name: str, value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"Argument `{name}` must be a number. Received: {name}={value!r}")
    if not math.isfinite(value):
        raise ValueError(f"Argument `{name}` must be finite. Received: {name}={value!r}")
    return float(value)


def _step(step: Any) -> int:
    try:
        value = float(step)
    except (TypeError, ValueError):
        raise TypeError(f"A step must be a number. Received: step={step!r}") from None
    if not value >= 0:
        raise ValueError(f"A step must be >= 0. Received: step={step!r}")
    return int(value)


class LearningRateSchedule:
    """The base class of learning-rate schedules.

    To write your own, subclass it and define ``__call__(self, step)``, which receives the number
    of updates made so far (an ``int``) and returns the learning rate (a float). Define
    ``get_config()`` too if the optimizer's config must be serializable.

    A schedule written in Python is evaluated in Python before every update, so it costs a little
    more per step than the built-in schedules, which run in Rust.

    Args:
        step: (of a call) the number of updates made so far, an int from 0.

    Examples:
        >>> class InverseSqrt(fg.optimizers.schedules.LearningRateSchedule):
        ...     def __init__(self, initial_learning_rate):
        ...         self.initial_learning_rate = initial_learning_rate
        ...
        ...     def __call__(self, step):
        ...         return self.initial_learning_rate / (step + 1) ** 0.5
        ...
        ...     def get_config(self):
        ...         return {"initial_learning_rate": self.initial_learning_rate}
        >>> InverseSqrt(0.1)(3)
        0.05
        >>> opt = fg.optimizers.SGD(learning_rate=InverseSqrt(0.1))
    """

    def __init_subclass__(cls, **kwargs: Any) -> None:
        """Registers the public schedules of ``ferrograd.optimizers.schedules`` by class name,
        for ``deserialize``; a user's schedule is passed in ``custom_objects`` instead."""
        super().__init_subclass__(**kwargs)
        if cls.__module__.startswith(__package__ + ".") and not cls.__name__.startswith("_"):
            _REGISTRY[cls.__name__] = cls

    def __call__(self, step: int) -> float:
        raise NotImplementedError(
            f"Learning rate schedule '{type(self).__name__}' must override `__call__(self, step)`."
        )

    def get_config(self) -> dict[str, Any]:
        """The schedule's constructor arguments, from which ``from_config`` makes it again.

        Subclasses written by users override it; the base class raises.

        Returns:
            A JSON-ready dict.

        Raises:
            NotImplementedError: in the base class.

        Examples:
            >>> schedule = fg.optimizers.schedules.StepDecay(0.1, step_size=10, gamma=0.5)
            >>> schedule.get_config()["gamma"]
            0.5
        """
        raise NotImplementedError(
            f"Learning rate schedule '{type(self).__name__}' must override `get_config()` in "
            "order to be serializable."
        )

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> LearningRateSchedule:
        """Creates a schedule from the output of its ``get_config()``.

        Args:
            config: the dict ``get_config`` returned (the constructor's keyword arguments).

        Returns:
            A new schedule of this class.

        Examples:
            >>> fg.optimizers.schedules.CosineDecay.from_config(
            ...     {"initial_learning_rate": 0.1, "decay_steps": 100}
            ... )
            CosineDecay(initial_learning_rate=0.1, decay_steps=100, alpha=0.0, ...)
        """
        return cls(**config)


class _BuiltinSchedule(LearningRateSchedule):
    """A schedule evaluated in Rust: subclasses set ``_core`` from ``_rust_config()``."""

    name: str

    def _rust_config(self) -> dict[str, Any]:
        raise NotImplementedError

    def _build(self) -> None:
        self._core = _core.Schedule(json.dumps(self._rust_config(), allow_nan=False))

    def __call__(self, step: Any) -> float:
        return self._core.at(_step(step))

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.get_config().items() if k != "name")
        return f"{type(self).__name__}({args})"


def _evaluated_in_rust(schedule: Any) -> bool:
    """Whether `schedule` is a built-in schedule whose `__call__` was not overridden."""
    return (
        isinstance(schedule, _BuiltinSchedule)
        and type(schedule).__call__ is _BuiltinSchedule.__call__
    )

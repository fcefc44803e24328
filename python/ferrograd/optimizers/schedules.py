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

import json
import math
import numbers
from typing import Any

from ferrograd import _core


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

    Example:

    ```python
    class InverseSqrt(fg.optimizers.schedules.LearningRateSchedule):
        def __init__(self, initial_learning_rate):
            self.initial_learning_rate = initial_learning_rate

        def __call__(self, step):
            return self.initial_learning_rate / (step + 1) ** 0.5

        def get_config(self):
            return {"initial_learning_rate": self.initial_learning_rate}

    opt = fg.optimizers.SGD(learning_rate=InverseSqrt(0.1))
    ```
    """

    def __call__(self, step: int) -> float:
        raise NotImplementedError(
            f"Learning rate schedule '{type(self).__name__}' must override `__call__(self, step)`."
        )

    def get_config(self) -> dict[str, Any]:
        raise NotImplementedError(
            f"Learning rate schedule '{type(self).__name__}' must override `get_config()` in "
            "order to be serializable."
        )

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> LearningRateSchedule:
        """Creates a schedule from the output of its ``get_config()``."""
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


class _DecayByRate(_BuiltinSchedule):
    """The settings that ExponentialDecay and InverseTimeDecay share; `_rust_name` picks the
    formula."""

    _rust_name: str

    def __init__(
        self,
        initial_learning_rate: float,
        decay_steps: float,
        decay_rate: float,
        staircase: bool = False,
        name: str | None = None,
    ):
        self.initial_learning_rate = initial_learning_rate
        self.decay_steps = decay_steps
        self.decay_rate = decay_rate
        self.staircase = staircase
        self.name = type(self).__name__ if name is None else name
        self._build()

    def _rust_config(self) -> dict[str, Any]:
        return {
            "name": self._rust_name,
            "initial_learning_rate": _number("initial_learning_rate", self.initial_learning_rate),
            "decay_steps": _number("decay_steps", self.decay_steps),
            "decay_rate": _number("decay_rate", self.decay_rate),
            "staircase": bool(self.staircase),
        }

    def get_config(self) -> dict[str, Any]:
        return {
            "initial_learning_rate": self.initial_learning_rate,
            "decay_steps": self.decay_steps,
            "decay_rate": self.decay_rate,
            "staircase": self.staircase,
            "name": self.name,
        }


class ExponentialDecay(_DecayByRate):
    """A schedule that decays the learning rate exponentially.

    ```python
    def decayed_learning_rate(step):
        return initial_learning_rate * decay_rate ** (step / decay_steps)
    ```

    With ``staircase=True``, ``step / decay_steps`` is an integer division and the rate falls
    in steps.

    Args:
        initial_learning_rate: Float. The learning rate at step 0.
        decay_steps: Positive number. The number of steps over which the rate is multiplied by
            ``decay_rate``.
        decay_rate: Float, ``>= 0``. The decay factor.
        staircase: Boolean, defaults to ``False``. Whether to decay at discrete intervals.
        name: String, defaults to ``"ExponentialDecay"``.

    Example:

    >>> s = fg.optimizers.schedules.ExponentialDecay(0.1, decay_steps=10, decay_rate=0.5)
    >>> s(20)
    0.025
    """

    _rust_name = "exponential_decay"


class PiecewiseConstantDecay(_BuiltinSchedule):
    """A schedule that is constant between boundaries.

    The rate is ``values[0]`` while ``step <= boundaries[0]``, ``values[1]`` while
    ``boundaries[0] < step <= boundaries[1]``, ..., and ``values[-1]`` once
    ``step > boundaries[-1]``.

    Args:
        boundaries: List of strictly increasing numbers (steps).
        values: List of floats, one more than ``boundaries``.
        name: String, defaults to ``"PiecewiseConstant"``.

    Example:

    >>> s = fg.optimizers.schedules.PiecewiseConstantDecay([100, 200], [1.0, 0.5, 0.1])
    >>> s(100), s(101), s(201)
    (1.0, 0.5, 0.1)
    """

    def __init__(
        self, boundaries: list[float], values: list[float], name: str = "PiecewiseConstant"
    ):
        self.boundaries = list(boundaries)
        self.values = list(values)
        self.name = name
        self._build()

    def _rust_config(self) -> dict[str, Any]:
        return {
            "name": "piecewise_constant_decay",
            "boundaries": [_number("boundaries", b) for b in self.boundaries],
            "values": [_number("values", v) for v in self.values],
        }

    def get_config(self) -> dict[str, Any]:
        return {"boundaries": self.boundaries, "values": self.values, "name": self.name}


class CosineDecay(_BuiltinSchedule):
    """A cosine decay, with an optional linear warmup first.

    Without warmup (``warmup_target=None``):

    ```python
    def decayed_learning_rate(step):
        step = min(step, decay_steps)
        cosine_decay = 0.5 * (1 + cos(pi * step / decay_steps))
        return initial_learning_rate * ((1 - alpha) * cosine_decay + alpha)
    ```

    With a ``warmup_target``, the rate first rises linearly from ``initial_learning_rate`` to
    ``warmup_target`` over ``warmup_steps``, then decays as above from ``warmup_target``.

    Args:
        initial_learning_rate: Float. The learning rate at step 0.
        decay_steps: Positive number. The number of steps to decay over.
        alpha: Float in ``[0, 1]``, defaults to ``0.0``. The final rate as a fraction of the
            rate the decay starts from.
        name: String, defaults to ``"CosineDecay"``.
        warmup_target: Float or ``None`` (default: no warmup). The rate the warmup reaches.
        warmup_steps: Number, defaults to ``0``. The length of the warmup.

    Example:

    >>> s = fg.optimizers.schedules.CosineDecay(0.0, 100, warmup_target=0.1, warmup_steps=10)
    >>> round(s(5), 6), round(s(10), 6), s(110)
    (0.05, 0.1, 0.0)
    """

    def __init__(
        self,
        initial_learning_rate: float,
        decay_steps: float,
        alpha: float = 0.0,
        name: str = "CosineDecay",
        warmup_target: float | None = None,
        warmup_steps: float = 0,
    ):
        self.initial_learning_rate = initial_learning_rate
        self.decay_steps = decay_steps
        self.alpha = alpha
        self.name = name
        self.warmup_target = warmup_target
        self.warmup_steps = warmup_steps
        self._build()

    def _rust_config(self) -> dict[str, Any]:
        target = self.warmup_target
        return {
            "name": "cosine_decay",
            "initial_learning_rate": _number("initial_learning_rate", self.initial_learning_rate),
            "decay_steps": _number("decay_steps", self.decay_steps),
            "alpha": _number("alpha", self.alpha),
            "warmup_target": None if target is None else _number("warmup_target", target),
            "warmup_steps": _number("warmup_steps", self.warmup_steps),
        }

    def get_config(self) -> dict[str, Any]:
        return {
            "initial_learning_rate": self.initial_learning_rate,
            "decay_steps": self.decay_steps,
            "alpha": self.alpha,
            "name": self.name,
            "warmup_target": self.warmup_target,
            "warmup_steps": self.warmup_steps,
        }


class InverseTimeDecay(_DecayByRate):
    """A schedule that decays the learning rate as ``1 / t``.

    ```python
    def decayed_learning_rate(step):
        return initial_learning_rate / (1 + decay_rate * step / decay_steps)
    ```

    With ``staircase=True``, ``step / decay_steps`` is an integer division.

    Args:
        initial_learning_rate: Float. The learning rate at step 0.
        decay_steps: Positive number. How often to apply the decay.
        decay_rate: Float, ``>= 0``. The decay rate.
        staircase: Boolean, defaults to ``False``.
        name: String, defaults to ``"InverseTimeDecay"``.

    Example:

    >>> s = fg.optimizers.schedules.InverseTimeDecay(0.1, decay_steps=1, decay_rate=0.5)
    >>> s(2)
    0.05
    """

    _rust_name = "inverse_time_decay"


class PolynomialDecay(_BuiltinSchedule):
    """A polynomial decay from ``initial_learning_rate`` to ``end_learning_rate``.

    ```python
    def decayed_learning_rate(step):
        step = min(step, decay_steps)
        return (initial_learning_rate - end_learning_rate) * (
            1 - step / decay_steps
        ) ** power + end_learning_rate
    ```

    With ``cycle=True``, ``decay_steps`` becomes the first multiple of itself that is at least
    ``step`` (the decay restarts, over longer and longer periods).

    Args:
        initial_learning_rate: Float. The learning rate at step 0.
        decay_steps: Positive number. The number of steps to decay over.
        end_learning_rate: Float, defaults to ``0.0001``. The final rate.
        power: Float, defaults to ``1.0``. The power of the polynomial.
        cycle: Boolean, defaults to ``False``. Whether to cycle beyond ``decay_steps``.
        name: String, defaults to ``"PolynomialDecay"``.

    Example:

    >>> s = fg.optimizers.schedules.PolynomialDecay(0.1, 10, end_learning_rate=0.0)
    >>> round(s(5), 6), s(20)
    (0.05, 0.0)
    """

    def __init__(
        self,
        initial_learning_rate: float,
        decay_steps: float,
        end_learning_rate: float = 0.0001,
        power: float = 1.0,
        cycle: bool = False,
        name: str = "PolynomialDecay",
    ):
        self.initial_learning_rate = initial_learning_rate
        self.decay_steps = decay_steps
        self.end_learning_rate = end_learning_rate
        self.power = power
        self.cycle = cycle
        self.name = name
        self._build()

    def _rust_config(self) -> dict[str, Any]:
        return {
            "name": "polynomial_decay",
            "initial_learning_rate": _number("initial_learning_rate", self.initial_learning_rate),
            "decay_steps": _number("decay_steps", self.decay_steps),
            "end_learning_rate": _number("end_learning_rate", self.end_learning_rate),
            "power": _number("power", self.power),
            "cycle": bool(self.cycle),
        }

    def get_config(self) -> dict[str, Any]:
        return {
            "initial_learning_rate": self.initial_learning_rate,
            "decay_steps": self.decay_steps,
            "end_learning_rate": self.end_learning_rate,
            "power": self.power,
            "cycle": self.cycle,
            "name": self.name,
        }


class StepDecay(_BuiltinSchedule):
    """PyTorch's ``StepLR``, counted in optimizer steps: the rate falls by ``gamma`` every
    ``step_size`` steps.

    ```python
    def decayed_learning_rate(step):
        return initial_learning_rate * gamma ** (step // step_size)
    ```

    Args:
        initial_learning_rate: Float. The learning rate at step 0.
        step_size: Positive integer. The number of steps between two decays.
        gamma: Float, defaults to ``0.1``. The factor of each decay.
        name: String, defaults to ``"StepDecay"``.

    Example:

    >>> s = fg.optimizers.schedules.StepDecay(1.0, step_size=100, gamma=0.5)
    >>> s(99), s(100), s(250)
    (1.0, 0.5, 0.25)
    """

    def __init__(
        self,
        initial_learning_rate: float,
        step_size: int,
        gamma: float = 0.1,
        name: str = "StepDecay",
    ):
        self.initial_learning_rate = initial_learning_rate
        self.step_size = step_size
        self.gamma = gamma
        self.name = name
        self._build()

    def _rust_config(self) -> dict[str, Any]:
        size = self.step_size
        if isinstance(size, bool) or not isinstance(size, numbers.Integral) or size <= 0:
            raise ValueError(
                f"Argument `step_size` must be an integer > 0. Received: step_size={size!r}"
            )
        return {
            "name": "step_decay",
            "initial_learning_rate": _number("initial_learning_rate", self.initial_learning_rate),
            "step_size": int(size),
            "gamma": _number("gamma", self.gamma),
        }

    def get_config(self) -> dict[str, Any]:
        return {
            "initial_learning_rate": self.initial_learning_rate,
            "step_size": self.step_size,
            "gamma": self.gamma,
            "name": self.name,
        }


_SCHEDULES: dict[str, type[LearningRateSchedule]] = {
    cls.__name__: cls
    for cls in (
        ExponentialDecay,
        PiecewiseConstantDecay,
        CosineDecay,
        InverseTimeDecay,
        PolynomialDecay,
        StepDecay,
    )
}


def serialize(schedule: LearningRateSchedule) -> dict[str, Any]:
    """The schedule as ``{"class_name": ..., "config": ...}``."""
    return {"class_name": type(schedule).__name__, "config": schedule.get_config()}


def deserialize(
    config: dict[str, Any], custom_objects: dict[str, Any] | None = None
) -> LearningRateSchedule:
    """The schedule described by ``serialize``'s output (``custom_objects`` maps the names of
    user-defined schedules to their classes)."""
    if not isinstance(config, dict) or "class_name" not in config:
        raise ValueError(
            "A serialized schedule is a dict with 'class_name' and 'config'. "
            f"Received: config={config!r}"
        )
    name = config["class_name"]
    cls = (custom_objects or {}).get(name) or _SCHEDULES.get(name)
    if cls is None:
        raise ValueError(
            f"Unknown learning rate schedule: {name!r}. Known schedules: "
            f"{', '.join(sorted(_SCHEDULES))} (pass others in `custom_objects`)."
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

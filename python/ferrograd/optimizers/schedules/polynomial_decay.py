"""Keras's ``PolynomialDecay``."""

from __future__ import annotations

from typing import Any

from ferrograd.optimizers.schedules.learning_rate_schedule import _BuiltinSchedule, _number


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

    Examples:

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

"""PyTorch's ``StepLR`` as a schedule, ``StepDecay``."""

from __future__ import annotations

import numbers
from typing import Any

from ferrograd.optimizers.schedules.learning_rate_schedule import _BuiltinSchedule, _number


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

    Examples:

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

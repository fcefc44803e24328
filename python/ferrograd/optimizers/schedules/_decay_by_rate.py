"""What ExponentialDecay and InverseTimeDecay share."""

from __future__ import annotations

from typing import Any

from ferrograd.optimizers.schedules.learning_rate_schedule import _BuiltinSchedule, _number


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

"""Keras's ``PiecewiseConstantDecay``."""

from __future__ import annotations

from typing import Any

from ferrograd.optimizers.schedules.learning_rate_schedule import _BuiltinSchedule, _number


class PiecewiseConstantDecay(_BuiltinSchedule):
    """A schedule that is constant between boundaries.

    The rate is ``values[0]`` while ``step <= boundaries[0]``, ``values[1]`` while
    ``boundaries[0] < step <= boundaries[1]``, ..., and ``values[-1]`` once
    ``step > boundaries[-1]``.

    Args:
        boundaries: List of strictly increasing numbers (steps).
        values: List of floats, one more than ``boundaries``.
        name: String, defaults to ``"PiecewiseConstant"``.

    Examples:

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

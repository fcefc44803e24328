"""Keras's ``CosineDecay``."""

from __future__ import annotations

from typing import Any

from ferrograd.optimizers.schedules.learning_rate_schedule import _BuiltinSchedule, _number


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

    Examples:

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

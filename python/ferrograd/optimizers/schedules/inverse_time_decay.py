"""Keras's ``InverseTimeDecay``."""

from __future__ import annotations

from ferrograd.optimizers.schedules._decay_by_rate import _DecayByRate


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

    Examples:

    >>> s = fg.optimizers.schedules.InverseTimeDecay(0.1, decay_steps=1, decay_rate=0.5)
    >>> s(2)
    0.05
    """

    _rust_name = "inverse_time_decay"

"""Keras's ``ExponentialDecay``."""

from __future__ import annotations

from ferrograd.optimizers.schedules._decay_by_rate import _DecayByRate


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

    Examples:

    >>> s = fg.optimizers.schedules.ExponentialDecay(0.1, decay_steps=10, decay_rate=0.5)
    >>> s(20)
    0.025
    """

    _rust_name = "exponential_decay"

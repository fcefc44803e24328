"""RMSprop: divide the gradient by a running root mean square (Hinton, 2012)."""

from __future__ import annotations

from typing import Any

from ferrograd.optimizers.optimizer import Optimizer, _number, base_optimizer_keyword_args


class RMSprop(Optimizer):
    """Optimizer that implements the RMSprop algorithm.

    It keeps a moving average of the squared gradients and divides each gradient by its root:

    ```python
    v = rho * v + (1 - rho) * g * g
    increment = learning_rate * g / sqrt(v + epsilon)
    w = w - increment
    ```

    The centered version also keeps a moving average ``a`` of the gradients and divides by
    ``sqrt(v - a * a + epsilon)`` (an estimate of the variance). With ``momentum > 0``, the
    increments accumulate: ``mom = momentum * mom + increment; w = w - mom`` (plain momentum,
    not Nesterov).

    Args:
        learning_rate: A float or a ``fg.optimizers.schedules.LearningRateSchedule``. Defaults
            to ``0.001``.
        rho: Float in ``[0, 1)``, defaults to ``0.9``. The discounting factor of old gradients.
        momentum: Float in ``[0, 1]``, defaults to ``0.0``.
        epsilon: Positive float, defaults to ``1e-7``. Added to the mean square under the root.
        centered: Boolean, defaults to ``False``. Whether to normalize by the estimated
            variance of the gradient instead of its uncentered second moment.
        {{base_optimizer_keyword_args}}

    Examples:

    >>> w = fg.tensor([10.0], requires_grad=True)
    >>> opt = fg.optimizers.RMSprop(learning_rate=0.1)
    >>> (w * w / 2.0).sum().backward()
    >>> opt.apply_gradients([(w.grad, w)])
    1
    >>> w.numpy().round(5)
    array([9.68377], dtype=float32)
    """

    def __init__(
        self,
        learning_rate: Any = 0.001,
        rho: float = 0.9,
        momentum: float = 0.0,
        epsilon: float = 1e-7,
        centered: bool = False,
        weight_decay: float | None = None,
        clipnorm: float | None = None,
        clipvalue: float | None = None,
        global_clipnorm: float | None = None,
        name: str = "rmsprop",
        **kwargs: Any,
    ):
        super().__init__(
            learning_rate=learning_rate,
            rule={
                "name": "rmsprop",
                "rho": _number("rho", rho),
                "momentum": _number("momentum", momentum),
                "epsilon": _number("epsilon", epsilon),
                "centered": bool(centered),
            },
            weight_decay=weight_decay,
            clipnorm=clipnorm,
            clipvalue=clipvalue,
            global_clipnorm=global_clipnorm,
            name=name,
            **kwargs,
        )


RMSprop.__doc__ = (RMSprop.__doc__ or "").replace(
    "{{base_optimizer_keyword_args}}", base_optimizer_keyword_args
)

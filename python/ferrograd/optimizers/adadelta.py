"""Adadelta: Adagrad with a moving window instead of an ever-growing sum (Zeiler, 2012)."""

from __future__ import annotations

from typing import Any

from ferrograd.optimizers.optimizer import Optimizer, _number, base_optimizer_keyword_args


class Adadelta(Optimizer):
    """Optimizer that implements the Adadelta algorithm.

    Adadelta adapts per-coordinate rates from moving averages of the squared gradients and of
    the squared updates, so learning does not stall as in Adagrad:

    ```python
    acc_grad = rho * acc_grad + (1 - rho) * g * g
    delta = -sqrt(acc_delta + epsilon) / sqrt(acc_grad + epsilon) * g
    acc_delta = rho * acc_delta + (1 - rho) * delta * delta
    w = w + learning_rate * delta
    ```

    Args:
        learning_rate: A float or a ``fg.optimizers.schedules.LearningRateSchedule``. Defaults
            to ``0.001``. The paper's form is ``1.0``.
        rho: Float in ``[0, 1)``, defaults to ``0.95``. The decay rate.
        epsilon: Positive float, defaults to ``1e-7``.
        {{base_optimizer_keyword_args}}

    Examples:

    >>> w = fg.tensor([1.0], requires_grad=True)
    >>> opt = fg.optimizers.Adadelta(learning_rate=1.0)
    >>> (w * 2.0).sum().backward()
    >>> opt.apply_gradients([(w.grad, w)])
    1
    """

    def __init__(
        self,
        learning_rate: Any = 0.001,
        rho: float = 0.95,
        epsilon: float = 1e-7,
        weight_decay: float | None = None,
        clipnorm: float | None = None,
        clipvalue: float | None = None,
        global_clipnorm: float | None = None,
        name: str = "adadelta",
        **kwargs: Any,
    ):
        super().__init__(
            learning_rate=learning_rate,
            rule={
                "name": "adadelta",
                "rho": _number("rho", rho),
                "epsilon": _number("epsilon", epsilon),
            },
            weight_decay=weight_decay,
            clipnorm=clipnorm,
            clipvalue=clipvalue,
            global_clipnorm=global_clipnorm,
            name=name,
            **kwargs,
        )


Adadelta.__doc__ = (Adadelta.__doc__ or "").replace(
    "{{base_optimizer_keyword_args}}", base_optimizer_keyword_args
)

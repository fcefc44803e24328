"""Adagrad: per-coordinate rates that shrink with the gradients seen (Duchi et al., 2011)."""

from __future__ import annotations

from typing import Any

from ferrograd.optimizers.optimizer import Optimizer, _number, base_optimizer_keyword_args


class Adagrad(Optimizer):
    """Optimizer that implements the Adagrad algorithm.

    Each variable gets its own learning rate, which falls as the squares of its gradients
    accumulate: the more updates a coordinate receives, the smaller they get.

    ```python
    accumulator = accumulator + g * g
    w = w - learning_rate * g / sqrt(accumulator + epsilon)
    ```

    Args:
        learning_rate: A float or a ``fg.optimizers.schedules.LearningRateSchedule``. Defaults
            to ``0.001``. Adagrad tends to want larger rates than other optimizers; the paper's
            form is ``1.0``.
        initial_accumulator_value: Non-negative float, defaults to ``0.1``. The starting value
            of the accumulators.
        epsilon: Positive float, defaults to ``1e-7``.
        {{base_optimizer_keyword_args}}

    Examples:

    >>> w = fg.tensor([1.0], requires_grad=True)
    >>> opt = fg.optimizers.Adagrad(learning_rate=0.1, initial_accumulator_value=0.0)
    >>> (w * 3.0).sum().backward()
    >>> opt.apply_gradients([(w.grad, w)])
    1
    >>> w.numpy().round(5)
    array([0.9], dtype=float32)
    """

    def __init__(
        self,
        learning_rate: Any = 0.001,
        initial_accumulator_value: float = 0.1,
        epsilon: float = 1e-7,
        weight_decay: float | None = None,
        clipnorm: float | None = None,
        clipvalue: float | None = None,
        global_clipnorm: float | None = None,
        name: str = "adagrad",
        **kwargs: Any,
    ):
        super().__init__(
            learning_rate=learning_rate,
            rule={
                "name": "adagrad",
                "initial_accumulator_value": _number(
                    "initial_accumulator_value", initial_accumulator_value
                ),
                "epsilon": _number("epsilon", epsilon),
            },
            weight_decay=weight_decay,
            clipnorm=clipnorm,
            clipvalue=clipvalue,
            global_clipnorm=global_clipnorm,
            name=name,
            **kwargs,
        )


Adagrad.__doc__ = (Adagrad.__doc__ or "").replace(
    "{{base_optimizer_keyword_args}}", base_optimizer_keyword_args
)

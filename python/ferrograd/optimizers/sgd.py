"""SGD: gradient descent, with momentum and Nesterov momentum."""

from __future__ import annotations

from typing import Any

from ferrograd.optimizers.optimizer import Optimizer, _number, base_optimizer_keyword_args


class SGD(Optimizer):
    """Gradient descent (with momentum) optimizer.

    Update rule for a variable ``w`` with gradient ``g`` when ``momentum`` is 0:

    ```python
    w = w - learning_rate * g
    ```

    When ``momentum`` is larger than 0:

    ```python
    velocity = momentum * velocity - learning_rate * g
    w = w + velocity
    ```

    And with ``nesterov=True``:

    ```python
    velocity = momentum * velocity - learning_rate * g
    w = w + momentum * velocity - learning_rate * g
    ```

    Args:
        learning_rate: A float or a ``fg.optimizers.schedules.LearningRateSchedule``. Defaults
            to ``0.01``.
        momentum: Float in ``[0, 1]``, defaults to ``0.0``. Accelerates descent in the
            relevant direction and dampens oscillations; 0 is vanilla gradient descent.
        nesterov: Boolean, defaults to ``False``. Whether to apply Nesterov momentum.
        {{base_optimizer_keyword_args}}

    Examples:

    >>> w = fg.tensor([1.0, 2.0], requires_grad=True)
    >>> opt = fg.optimizers.SGD(learning_rate=0.1)
    >>> (w * w).sum().backward()
    >>> opt.apply_gradients([(w.grad, w)])
    1
    >>> w.numpy()
    array([0.8, 1.6], dtype=float32)
    """

    def __init__(
        self,
        learning_rate: Any = 0.01,
        momentum: float = 0.0,
        nesterov: bool = False,
        weight_decay: float | None = None,
        clipnorm: float | None = None,
        clipvalue: float | None = None,
        global_clipnorm: float | None = None,
        name: str = "SGD",
        **kwargs: Any,
    ):
        super().__init__(
            learning_rate=learning_rate,
            rule={
                "name": "sgd",
                "momentum": _number("momentum", momentum),
                "nesterov": bool(nesterov),
            },
            weight_decay=weight_decay,
            clipnorm=clipnorm,
            clipvalue=clipvalue,
            global_clipnorm=global_clipnorm,
            name=name,
            **kwargs,
        )


SGD.__doc__ = (SGD.__doc__ or "").replace(
    "{{base_optimizer_keyword_args}}", base_optimizer_keyword_args
)

"""Lion: evolved sign momentum (Chen et al., 2023)."""

from __future__ import annotations

from typing import Any

from ferrograd.optimizers.optimizer import Optimizer, _number, base_optimizer_keyword_args


class Lion(Optimizer):
    """Optimizer that implements the Lion algorithm.

    Lion only keeps a momentum, and steps by the sign of an interpolation of it and the
    gradient, so every parameter moves by exactly ``learning_rate`` (or 0) per step; a suitable
    learning rate is typically 3-10x smaller than AdamW's, and its weight decay 3-10x larger:

    ```python
    w = w - learning_rate * sign(beta_1 * m + (1 - beta_1) * g)
    m = beta_2 * m + (1 - beta_2) * g
    ```

    Args:
        learning_rate: A float or a ``fg.optimizers.schedules.LearningRateSchedule``. Defaults
            to ``0.001``.
        beta_1: Float in ``(0, 1]``, defaults to ``0.9``. The rate to combine the current
            gradient and the momentum (``beta_1=0`` would be SignSGD: a ValueError, as in Keras).
        beta_2: Float in ``[0, 1]``, defaults to ``0.99``. The decay rate of the momentum.
        {{base_optimizer_keyword_args}}

    Examples:

    >>> w = fg.tensor([1.0, -1.0], requires_grad=True)
    >>> opt = fg.optimizers.Lion(learning_rate=0.1)
    >>> (w * w).sum().backward()
    >>> opt.apply_gradients([(w.grad, w)])
    1
    >>> w.numpy().round(4)
    array([ 0.9, -0.9], dtype=float32)
    """

    def __init__(
        self,
        learning_rate: Any = 0.001,
        beta_1: float = 0.9,
        beta_2: float = 0.99,
        weight_decay: float | None = None,
        clipnorm: float | None = None,
        clipvalue: float | None = None,
        global_clipnorm: float | None = None,
        name: str = "lion",
        **kwargs: Any,
    ):
        beta_1 = _number("beta_1", beta_1)
        if beta_1 <= 0 or beta_1 > 1:
            raise ValueError(
                "Argument `beta_1` must be in the [0, 1] range. Otherwise, the optimizer "
                f"degenerates to SignSGD. Received: beta_1={beta_1}."
            )
        super().__init__(
            learning_rate=learning_rate,
            rule={"name": "lion", "beta_1": beta_1, "beta_2": _number("beta_2", beta_2)},
            weight_decay=weight_decay,
            clipnorm=clipnorm,
            clipvalue=clipvalue,
            global_clipnorm=global_clipnorm,
            name=name,
            **kwargs,
        )


Lion.__doc__ = (Lion.__doc__ or "").replace(
    "{{base_optimizer_keyword_args}}", base_optimizer_keyword_args
)

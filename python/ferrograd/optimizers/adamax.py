"""Adamax: Adam with the infinity norm (Kingma and Ba, 2014, section 7)."""

from __future__ import annotations

from typing import Any

from ferrograd.optimizers.optimizer import Optimizer, _number, base_optimizer_keyword_args


class Adamax(Optimizer):
    """Optimizer that implements the Adamax algorithm.

    Adamax is a variant of Adam based on the infinity norm. With ``t`` the 1-based step:

    ```python
    m = m + (g - m) * (1 - beta_1)
    u = maximum(beta_2 * u, abs(g))
    w = w - learning_rate * m / ((1 - beta_1**t) * (u + epsilon))
    ```

    ``torch.optim.Adamax`` adds its ``eps`` inside the maximum (``maximum(beta_2 * u,
    abs(g) + eps)``) and divides by ``u``; the two agree when the epsilons are negligible.

    Args:
        learning_rate: A float or a ``fg.optimizers.schedules.LearningRateSchedule``. Defaults
            to ``0.001``.
        beta_1: Float in ``[0, 1)``, defaults to ``0.9``. The decay rate of the first moment.
        beta_2: Float in ``[0, 1)``, defaults to ``0.999``. The decay rate of the infinity norm.
        epsilon: Positive float, defaults to ``1e-7``. A constant for numerical stability.
        {{base_optimizer_keyword_args}}

    Examples:

    >>> w = fg.tensor([1.0, -1.0], requires_grad=True)
    >>> opt = fg.optimizers.Adamax(learning_rate=0.1)
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
        beta_2: float = 0.999,
        epsilon: float = 1e-7,
        weight_decay: float | None = None,
        clipnorm: float | None = None,
        clipvalue: float | None = None,
        global_clipnorm: float | None = None,
        name: str = "adamax",
        **kwargs: Any,
    ):
        super().__init__(
            learning_rate=learning_rate,
            rule={
                "name": "adamax",
                "beta_1": _number("beta_1", beta_1),
                "beta_2": _number("beta_2", beta_2),
                "epsilon": _number("epsilon", epsilon),
            },
            weight_decay=weight_decay,
            clipnorm=clipnorm,
            clipvalue=clipvalue,
            global_clipnorm=global_clipnorm,
            name=name,
            **kwargs,
        )


Adamax.__doc__ = (Adamax.__doc__ or "").replace(
    "{{base_optimizer_keyword_args}}", base_optimizer_keyword_args
)

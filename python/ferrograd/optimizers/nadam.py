"""Nadam: Adam with Nesterov momentum (Dozat, 2016)."""

from __future__ import annotations

from typing import Any

from ferrograd.optimizers.optimizer import Optimizer, _number, base_optimizer_keyword_args


class Nadam(Optimizer):
    """Optimizer that implements the Nadam algorithm.

    Much like Adam is essentially RMSprop with momentum, Nadam is Adam with Nesterov momentum.
    With ``t`` the 1-based step and Keras's momentum schedule
    ``u_t = beta_1 * (1 - 0.5 * 0.96**t)``:

    ```python
    m = m + (g - m) * (1 - beta_1)
    v = v + (g * g - v) * (1 - beta_2)
    m_hat = u_{t+1} * m / (1 - u_1 * ... * u_{t+1}) + (1 - u_t) * g / (1 - u_1 * ... * u_t)
    v_hat = v / (1 - beta_2**t)
    w = w - learning_rate * m_hat / (sqrt(v_hat) + epsilon)
    ```

    This is ``torch.optim.NAdam(momentum_decay=1.0)``: PyTorch's default ``momentum_decay=0.004``
    uses ``0.96**(0.004 * t)`` in the schedule. The product of the ``u_i`` (Keras's
    ``_u_product`` variable) is a function of ``iterations`` and is computed from it, so the
    saved state is ``iterations`` and the ``momentum`` and ``velocity`` slots.

    Args:
        learning_rate: A float or a ``fg.optimizers.schedules.LearningRateSchedule``. Defaults
            to ``0.001``.
        beta_1: Float in ``[0, 1)``, defaults to ``0.9``. The decay rate of the first moment.
        beta_2: Float in ``[0, 1)``, defaults to ``0.999``. The decay rate of the second moment.
        epsilon: Positive float, defaults to ``1e-7``. A constant for numerical stability.
        {{base_optimizer_keyword_args}}

    Examples:

    >>> w = fg.tensor([1.0, -1.0], requires_grad=True)
    >>> opt = fg.optimizers.Nadam(learning_rate=0.1)
    >>> (w * w).sum().backward()
    >>> opt.apply_gradients([(w.grad, w)])
    1
    >>> w.numpy().round(4)
    array([ 0.8937, -0.8937], dtype=float32)
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
        name: str = "nadam",
        **kwargs: Any,
    ):
        super().__init__(
            learning_rate=learning_rate,
            rule={
                "name": "nadam",
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


Nadam.__doc__ = (Nadam.__doc__ or "").replace(
    "{{base_optimizer_keyword_args}}", base_optimizer_keyword_args
)

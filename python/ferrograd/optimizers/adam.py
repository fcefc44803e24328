"""Adam: adaptive moment estimation (Kingma and Ba, 2014)."""

from __future__ import annotations

from typing import Any

from ferrograd.optimizers.optimizer import Optimizer, _number, base_optimizer_keyword_args


class Adam(Optimizer):
    """Optimizer that implements the Adam algorithm.

    Adam is a stochastic gradient descent method based on adaptive estimates of the first and
    second moments of the gradients. With ``t`` the 1-based step:

    ```python
    m = m + (g - m) * (1 - beta_1)
    v = v + (g * g - v) * (1 - beta_2)
    alpha = learning_rate * sqrt(1 - beta_2**t) / (1 - beta_1**t)
    w = w - alpha * m / (sqrt(v) + epsilon)
    ```

    With ``amsgrad=True``, ``v`` in the last line is the running maximum of ``v``.

    Args:
        learning_rate: A float or a ``fg.optimizers.schedules.LearningRateSchedule``. Defaults
            to ``0.001``.
        beta_1: Float in ``[0, 1)``, defaults to ``0.9``. The decay rate of the first moment.
        beta_2: Float in ``[0, 1)``, defaults to ``0.999``. The decay rate of the second moment.
        epsilon: Positive float, defaults to ``1e-7``. A constant for numerical stability: the
            "epsilon hat" of the paper (added to ``sqrt(v)`` before the bias correction is
            applied), not the epsilon of its Algorithm 1, as in Keras. PyTorch's ``eps`` is
            the latter: ``torch.optim.Adam(eps=e)`` matches
            ``Adam(epsilon=e * sqrt(1 - beta_2**t))`` at step ``t``.
        amsgrad: Boolean, defaults to ``False``. Whether to apply the AMSGrad variant (Reddi et
            al., 2018).
        {{base_optimizer_keyword_args}}

    Examples:

    >>> w = fg.tensor([1.0, -1.0], requires_grad=True)
    >>> opt = fg.optimizers.Adam(learning_rate=0.1)
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
        amsgrad: bool = False,
        weight_decay: float | None = None,
        clipnorm: float | None = None,
        clipvalue: float | None = None,
        global_clipnorm: float | None = None,
        name: str = "adam",
        **kwargs: Any,
    ):
        super().__init__(
            learning_rate=learning_rate,
            rule=_adam_rule("adam", beta_1, beta_2, epsilon, amsgrad),
            weight_decay=weight_decay,
            clipnorm=clipnorm,
            clipvalue=clipvalue,
            global_clipnorm=global_clipnorm,
            name=name,
            **kwargs,
        )


def _adam_rule(
    rule: str, beta_1: float, beta_2: float, epsilon: float, amsgrad: bool
) -> dict[str, Any]:
    return {
        "name": rule,
        "beta_1": _number("beta_1", beta_1),
        "beta_2": _number("beta_2", beta_2),
        "epsilon": _number("epsilon", epsilon),
        "amsgrad": bool(amsgrad),
    }


Adam.__doc__ = (Adam.__doc__ or "").replace(
    "{{base_optimizer_keyword_args}}", base_optimizer_keyword_args
)

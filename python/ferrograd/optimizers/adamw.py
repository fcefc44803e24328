"""AdamW: Adam with decoupled weight decay (Loshchilov and Hutter, 2019)."""

from __future__ import annotations

from typing import Any

from ferrograd.optimizers.adam import _adam_rule
from ferrograd.optimizers.optimizer import Optimizer, base_optimizer_keyword_args


class AdamW(Optimizer):
    """Optimizer that implements the AdamW algorithm.

    Adam (see ``Adam``) with decoupled weight decay: before each update, every updated variable
    decays as ``w = w - w * weight_decay * learning_rate``, independently of the gradient.

    Args:
        learning_rate: A float or a ``fg.optimizers.schedules.LearningRateSchedule``. Defaults
            to ``0.001``.
        weight_decay: Float, defaults to ``0.004``. Must not be ``None``.
        beta_1: Float in ``[0, 1)``, defaults to ``0.9``.
        beta_2: Float in ``[0, 1)``, defaults to ``0.999``.
        epsilon: Positive float, defaults to ``1e-7`` (Keras's placement; see ``Adam``).
        amsgrad: Boolean, defaults to ``False``. Whether to apply the AMSGrad variant.
        {{base_optimizer_keyword_args}}

    Examples:

    >>> w = fg.tensor([1.0, -1.0], requires_grad=True)
    >>> opt = fg.optimizers.AdamW(learning_rate=0.1, weight_decay=0.5)
    >>> (w * w).sum().backward()
    >>> opt.apply_gradients([(w.grad, w)])
    1
    >>> w.numpy().round(4)
    array([ 0.85, -0.85], dtype=float32)
    """

    def __init__(
        self,
        learning_rate: Any = 0.001,
        weight_decay: float | None = 0.004,
        beta_1: float = 0.9,
        beta_2: float = 0.999,
        epsilon: float = 1e-7,
        amsgrad: bool = False,
        clipnorm: float | None = None,
        clipvalue: float | None = None,
        global_clipnorm: float | None = None,
        name: str = "adamw",
        **kwargs: Any,
    ):
        if weight_decay is None:
            raise ValueError("Argument `weight_decay` must be a float. Received: weight_decay=None")
        super().__init__(
            learning_rate=learning_rate,
            rule=_adam_rule("adamw", beta_1, beta_2, epsilon, amsgrad),
            weight_decay=weight_decay,
            clipnorm=clipnorm,
            clipvalue=clipvalue,
            global_clipnorm=global_clipnorm,
            name=name,
            **kwargs,
        )


AdamW.__doc__ = (AdamW.__doc__ or "").replace(
    "{{base_optimizer_keyword_args}}", base_optimizer_keyword_args
)

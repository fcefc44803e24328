"""``LossFunctionWrapper``: a loss function ``fn(y_true, y_pred)`` written in Python made a
``Loss``."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ferrograd._core import Tensor
from ferrograd.losses.loss import Loss


class LossFunctionWrapper(Loss):
    """A loss from a function ``fn(y_true, y_pred, **kwargs)`` giving one loss value per
    sample (or any shape whose first axis is the batch), written with differentiable tensor
    ops (``fg.ops``), as Keras's ``keras.losses.LossFunctionWrapper``; what a loss function
    given to ``compile(loss=...)`` becomes. It trains with ``compile(run_eagerly=True)`` or in
    a ``train_step``.

    Args:
        fn: the loss function.
        reduction: ``"sum_over_batch_size"`` (default), ``"sum"`` or ``"none"``.
        name: the loss's name (default: ``fn``'s name).
        dtype: accepted for Keras compatibility.
        **kwargs: passed to ``fn`` at each call.

    Examples:
        >>> def mean_cube(y_true, y_pred):
        ...     return fg.ops.mean(fg.ops.abs(y_pred - y_true) ** 3, axis=-1)
        >>> loss = fg.losses.LossFunctionWrapper(mean_cube)
        >>> loss.name, loss([[0.0], [0.0]], fg.tensor([[1.0], [2.0]])).item()
        ('mean_cube', 4.5)
    """

    def __init__(
        self,
        fn: Callable[..., Any],
        reduction: str = "sum_over_batch_size",
        name: str | None = None,
        dtype: Any = None,
        **kwargs: Any,
    ) -> None:
        if not callable(fn):
            raise TypeError(f"LossFunctionWrapper: fn must be callable, received fn={fn!r}")
        super().__init__(
            name=name or getattr(fn, "__name__", "loss_function_wrapper"),
            reduction=reduction,
            dtype=dtype,
        )
        self.fn = fn
        self._fn_kwargs = kwargs

    def call(self, y_true: Any, y_pred: Any) -> Tensor:
        """The values of ``fn`` on a batch.

        Args:
            y_true: the targets.
            y_pred: the predictions.

        Returns:
            What ``fn`` returns (one value per sample).

        Examples:
            >>> loss = fg.losses.LossFunctionWrapper(lambda t, p: fg.ops.sum(p - t, axis=-1))
            >>> loss.call([[1.0, 1.0]], fg.tensor([[2.0, 3.0]])).numpy().tolist()
            [3.0]
        """
        return self.fn(y_true, y_pred, **self._fn_kwargs)

    def get_config(self) -> dict[str, Any]:
        """The constructor arguments (the function by name).

        Examples:
            >>> def my_loss(y_true, y_pred):
            ...     return fg.ops.mean(y_pred - y_true, axis=-1)
            >>> fg.losses.LossFunctionWrapper(my_loss).get_config()["fn"]
            'my_loss'
        """
        return {
            "name": self.name,
            "reduction": self.reduction,
            "fn": getattr(self.fn, "__name__", repr(self.fn)),
        }

    def __repr__(self) -> str:
        return f"LossFunctionWrapper({getattr(self.fn, '__name__', self.fn)!r})"

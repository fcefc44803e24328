"""Weight penalties added to the training loss, as in Keras:
``l1 * sum(|w|) + l2 * sum(w ** 2)``.

Examples:
    >>> dense = layers.Dense(64, kernel_regularizer=fg.regularizers.l2(1e-4))
"""

from ferrograd import _core


class Regularizer:
    """``regularizer(w)`` returns the penalty of ``w`` as a scalar tensor."""

    def __init__(self, l1=0.0, l2=0.0):
        for name, value in (("l1", l1), ("l2", l2)):
            if not (value >= 0.0) or value == float("inf"):
                raise ValueError(
                    f"{name} must be a finite non-negative number, received {name}={value!r}"
                )
        self.l1, self.l2 = float(l1), float(l2)

    def __call__(self, weight):
        return _core.regularization_penalty(weight, self.l1, self.l2)

    def get_config(self) -> dict:
        return {"l1": self.l1, "l2": self.l2}

    def __repr__(self):
        return f"{type(self).__name__}(l1={self.l1}, l2={self.l2})"


class L1L2(Regularizer):
    """Both penalties (Keras's default factors are 0)."""


class L1(Regularizer):
    def __init__(self, l1=0.01):
        super().__init__(l1=l1)


class L2(Regularizer):
    def __init__(self, l2=0.01):
        super().__init__(l2=l2)


def l1(l1=0.01):  # noqa: D103 - Keras's functional spelling
    return L1(l1)


def l2(l2=0.01):  # noqa: D103
    return L2(l2)


def l1_l2(l1=0.01, l2=0.01):  # noqa: D103
    return L1L2(l1=l1, l2=l2)


def get(identifier):
    """A regularizer from None, an instance, a name (``"l1"``, ``"l2"``, ``"l1_l2"``) or a dict
    ``{"l1": ..., "l2": ...}``."""
    if identifier is None or isinstance(identifier, Regularizer):
        return identifier
    if isinstance(identifier, dict):
        return L1L2(**identifier)
    if isinstance(identifier, str):
        makers = {"l1": l1, "l2": l2, "l1_l2": l1_l2, "l1l2": l1_l2}
        if identifier.lower() in makers:
            return makers[identifier.lower()]()
        raise ValueError(f"Unknown regularizer {identifier!r}. Known: l1, l2, l1_l2")
    raise TypeError(f"expected a regularizer, received {identifier!r}")


__all__ = ["L1", "L1L2", "L2", "Regularizer", "get", "l1", "l1_l2", "l2"]

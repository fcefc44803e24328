"""Weight penalties added to the training loss, as in Keras:
``l1 * sum(|w|) + l2 * sum(w ** 2)``.

Examples:
    >>> dense = layers.Dense(64, kernel_regularizer=fg.regularizers.l2(1e-4))
"""

from ferrograd import _core


class Regularizer:
    """A weight penalty: ``regularizer(w)`` returns ``l1 * sum(|w|) + l2 * sum(w ** 2)`` as a
    scalar tensor.

    Args:
        l1: the factor of the L1 penalty, finite and non-negative (default 0.0).
        l2: the factor of the L2 penalty, finite and non-negative (default 0.0).

    Raises:
        ValueError: when a factor is negative, NaN or infinite.

    Examples:
        >>> penalty = fg.regularizers.Regularizer(l1=0.5, l2=0.25)
        >>> float(penalty(fg.tensor([1.0, -2.0])))
        2.75
    """

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
        """The two factors, as ``{"l1": ..., "l2": ...}``.

        Returns:
            A dict that ``get`` (or ``L1L2(**config)``) turns back into the same penalty.

        Examples:
            >>> fg.regularizers.L1L2(l1=0.5).get_config()
            {'l1': 0.5, 'l2': 0.0}
        """
        return {"l1": self.l1, "l2": self.l2}

    @classmethod
    def from_config(cls, config: dict):
        """The regularizer of a ``get_config()`` dict, as Keras's ``cls(**config)``.

        Args:
            config: a dict from ``get_config()``.

        Returns:
            A new regularizer of this class.

        Examples:
            >>> fg.regularizers.L1.from_config({"l1": 0.5})
            L1(l1=0.5, l2=0.0)
        """
        return cls(**config)

    def __repr__(self):
        return f"{type(self).__name__}(l1={self.l1}, l2={self.l2})"


class L1L2(Regularizer):
    """Both penalties, ``l1 * sum(|w|) + l2 * sum(w ** 2)`` (Keras's default factors are 0).

    Args:
        l1: the factor of the L1 penalty (default 0.0).
        l2: the factor of the L2 penalty (default 0.0).

    Raises:
        ValueError: when a factor is negative, NaN or infinite.

    Examples:
        >>> penalty = fg.regularizers.L1L2(l1=0.01, l2=0.01)
        >>> dense = layers.Dense(4, kernel_regularizer=penalty)
    """


class L1(Regularizer):
    """The L1 penalty ``l1 * sum(|w|)``, which drives weights to exactly 0.

    Args:
        l1: the factor of the penalty (default 0.01).

    Raises:
        ValueError: when ``l1`` is negative, NaN or infinite.

    Examples:
        >>> float(fg.regularizers.L1(0.5)(fg.tensor([1.0, -3.0])))
        2.0
    """

    def __init__(self, l1=0.01):
        super().__init__(l1=l1)

    def get_config(self) -> dict:
        """The one factor the class takes, as Keras's, so that ``L1.from_config`` rebuilds it.

        Returns:
            ``{"l1": ...}``.

        Examples:
            >>> fg.regularizers.L1(0.5).get_config()
            {'l1': 0.5}
        """
        return {"l1": self.l1}


class L2(Regularizer):
    """The L2 penalty ``l2 * sum(w ** 2)`` (weight decay added to the loss).

    Args:
        l2: the factor of the penalty (default 0.01).

    Raises:
        ValueError: when ``l2`` is negative, NaN or infinite.

    Examples:
        >>> float(fg.regularizers.L2(0.5)(fg.tensor([1.0, -3.0])))
        5.0
    """

    def __init__(self, l2=0.01):
        super().__init__(l2=l2)

    def get_config(self) -> dict:
        """The one factor the class takes, as Keras's, so that ``L2.from_config`` rebuilds it.

        Returns:
            ``{"l2": ...}``.

        Examples:
            >>> fg.regularizers.L2(0.5).get_config()
            {'l2': 0.5}
        """
        return {"l2": self.l2}


def l1(l1=0.01):
    """Keras's functional spelling of ``L1(l1)``.

    Args:
        l1: the factor of the penalty (default 0.01).

    Returns:
        An ``L1`` regularizer.

    Examples:
        >>> fg.regularizers.l1(0.001)
        L1(l1=0.001, l2=0.0)
    """
    return L1(l1)


def l2(l2=0.01):
    """Keras's functional spelling of ``L2(l2)``.

    Args:
        l2: the factor of the penalty (default 0.01).

    Returns:
        An ``L2`` regularizer.

    Examples:
        >>> fg.regularizers.l2(0.001)
        L2(l1=0.0, l2=0.001)
    """
    return L2(l2)


def l1_l2(l1=0.01, l2=0.01):
    """Keras's functional spelling of ``L1L2(l1, l2)`` (here both factors default to 0.01).

    Args:
        l1: the factor of the L1 penalty (default 0.01).
        l2: the factor of the L2 penalty (default 0.01).

    Returns:
        An ``L1L2`` regularizer.

    Examples:
        >>> fg.regularizers.l1_l2()
        L1L2(l1=0.01, l2=0.01)
    """
    return L1L2(l1=l1, l2=l2)


def get(identifier):
    """A regularizer from None, an instance, a name (``"l1"``, ``"l2"``, ``"l1_l2"``) or a dict
    ``{"l1": ..., "l2": ...}``.

    Args:
        identifier: None, a ``Regularizer`` (returned as it is), a name (with the default
            factors, 0.01) or a config dict.

    Returns:
        The regularizer, or None for None.

    Raises:
        ValueError: for an unknown name.
        TypeError: for anything else.

    Examples:
        >>> fg.regularizers.get("l2")
        L2(l1=0.0, l2=0.01)
        >>> fg.regularizers.get({"l1": 0.1, "l2": 0.0})
        L1L2(l1=0.1, l2=0.0)
    """
    if identifier is None or isinstance(identifier, Regularizer):
        return identifier
    if isinstance(identifier, dict):
        # The configs of L1 and L2 hold their own factor alone (as Keras writes them).
        if set(identifier) == {"l1"}:
            return L1(**identifier)
        if set(identifier) == {"l2"}:
            return L2(**identifier)
        return L1L2(**identifier)
    if isinstance(identifier, str):
        makers = {"l1": l1, "l2": l2, "l1_l2": l1_l2, "l1l2": l1_l2}
        if identifier.lower() in makers:
            return makers[identifier.lower()]()
        raise ValueError(f"Unknown regularizer {identifier!r}. Known: l1, l2, l1_l2")
    raise TypeError(f"expected a regularizer, received {identifier!r}")


__all__ = ["L1", "L1L2", "L2", "Regularizer", "get", "l1", "l1_l2", "l2"]

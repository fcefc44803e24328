"""``MetricVariable``: the state of a metric written in Python (what ``Metric.add_variable``
returns), a small numpy array with Keras's ``assign`` methods."""

from __future__ import annotations

from typing import Any

import numpy as np


def _as_array(value: Any, dtype: str) -> np.ndarray:
    """``value`` (a number, numpy array, ``Tensor`` or ``MetricVariable``) as a numpy array."""
    return np.asarray(value, dtype=dtype)


class MetricVariable:
    """One state variable of a metric written in Python: a numpy array that
    ``update_state`` changes with ``assign``, ``assign_add`` and ``assign_sub``, and that
    takes part in arithmetic (``self.total / self.count``) as its value.

    Args:
        shape: the variable's shape (``()`` for a scalar).
        initializer: ``"zeros"``, ``"ones"``, a number, or a callable of ``(shape, dtype)``;
            ``reset_state`` puts this value back.
        dtype: the numpy dtype (default ``"float32"``, as Keras's metric variables).
        name: the variable's name.

    Examples:
        >>> total = fg.metrics.MetricVariable(shape=(), initializer="zeros", name="total")
        >>> total.assign_add(2.5)
        >>> float(total + 1.0)
        3.5
    """

    def __init__(self, shape=(), initializer="zeros", dtype=None, name=None) -> None:
        self.name = name
        self.dtype = np.dtype(dtype or "float32").name
        self.shape = tuple(int(d) for d in (shape or ()))
        self._initializer = initializer
        self._value = self._initial_value()

    def _initial_value(self) -> np.ndarray:
        init = self._initializer
        if init is None or init == "zeros":
            return np.zeros(self.shape, self.dtype)
        if init == "ones":
            return np.ones(self.shape, self.dtype)
        if isinstance(init, (int, float, np.number)) and not isinstance(init, bool):
            return np.full(self.shape, init, self.dtype)
        if callable(init):
            return np.array(
                np.broadcast_to(_as_array(init(self.shape, self.dtype), self.dtype), self.shape)
            )
        raise ValueError(
            f"metric variable {self.name!r}: initializer must be 'zeros', 'ones', a number or "
            f"a callable of (shape, dtype), received initializer={init!r}"
        )

    @property
    def value(self) -> np.ndarray:
        """The current value (a numpy array)."""
        return self._value

    def numpy(self) -> np.ndarray:
        """A copy of the current value as a numpy array.

        Examples:
            >>> fg.metrics.MetricVariable(shape=(2,), initializer="ones").numpy().tolist()
            [1.0, 1.0]
        """
        return self._value.copy()

    def assign(self, value: Any) -> None:
        """Sets the value (broadcast to the variable's shape).

        Args:
            value: a number, array or tensor.

        Examples:
            >>> v = fg.metrics.MetricVariable(shape=())
            >>> v.assign(4.0)
            >>> float(v)
            4.0
        """
        array = _as_array(value, self.dtype)
        try:
            self._value = np.array(np.broadcast_to(array, self.shape), dtype=self.dtype)
        except ValueError:
            raise ValueError(
                f"metric variable {self.name!r} has shape {self.shape}; cannot assign a value "
                f"of shape {array.shape}"
            ) from None

    def assign_add(self, value: Any) -> None:
        """Adds ``value`` to the variable.

        Args:
            value: a number, array or tensor.

        Examples:
            >>> v = fg.metrics.MetricVariable(shape=())
            >>> v.assign_add(2.0)
            >>> float(v)
            2.0
        """
        self.assign(self._value + _as_array(value, self.dtype))

    def assign_sub(self, value: Any) -> None:
        """Subtracts ``value`` from the variable.

        Args:
            value: a number, array or tensor.

        Examples:
            >>> v = fg.metrics.MetricVariable(shape=(), initializer=5.0)
            >>> v.assign_sub(2.0)
            >>> float(v)
            3.0
        """
        self.assign(self._value - _as_array(value, self.dtype))

    def _reset(self) -> None:
        self._value = self._initial_value()

    def __array__(self, dtype=None, copy=None):
        return self._value if dtype is None else self._value.astype(dtype)

    def __float__(self) -> float:
        return float(self._value)

    def __repr__(self) -> str:
        return f"<MetricVariable name={self.name!r} shape={self.shape} value={self._value!r}>"


def _binary(method: str):
    def operator(self, other):
        other = other._value if isinstance(other, MetricVariable) else other
        return getattr(self._value, method)(other)

    operator.__name__ = method
    return operator


for _method in (
    "__add__ __radd__ __sub__ __rsub__ __mul__ __rmul__ __truediv__ __rtruediv__ __pow__ "
    "__rpow__ __lt__ __le__ __gt__ __ge__ __neg__ __abs__"
).split():
    setattr(
        MetricVariable,
        _method,
        _binary(_method)
        if _method not in ("__neg__", "__abs__")
        else (lambda m: lambda self: getattr(self._value, m)())(_method),
    )

"""The base class of the metrics, and the registry that maps the names used in configs to the
metric classes."""

from __future__ import annotations

import json
import re
from typing import Any, ClassVar

from ferrograd import _core
from ferrograd.metrics.metric_variable import MetricVariable


class Metric:
    """Base class of the metrics: a Rust metric (``self._core``) with a name, or a metric
    written in Python, as Keras 3 writes them.

    A built-in subclass registers itself under the name of its Rust config (and its aliases),
    so that `ferrograd.metrics.get` finds it: ``class AUC(Metric, registered_as="auc")``.

    A user's subclass calls ``super().__init__(name=name, **kwargs)``, makes its state with
    ``self.add_variable(shape=(), initializer="zeros", name=...)`` (or ``add_weight``) and
    defines ``update_state(y_true, y_pred, sample_weight=None)`` (changing the variables with
    ``assign``/``assign_add``) and ``result()``; ``reset_state()`` puts every variable back to
    its initial value. Such a metric runs in Python, once per batch, also inside the Rust
    ``fit`` loop (the built-in metrics stay in Rust).

    Args:
        config: The metric's config as the Rust core reads it, e.g.
            ``{"name": "binary_accuracy", "threshold": 0.5}``; None (default) for a metric
            written in Python.
        name: The name shown in logs. Defaults to the Keras snake_case name (of the class,
            for a metric written in Python).
        dtype: The dtype of the variables of a metric written in Python (default
            ``"float32"``).

    Examples:

    >>> import ferrograd as fg
    >>> m = fg.metrics.Metric({"name": "binary_accuracy"}, name="acc")
    >>> m([1, 0], [0.9, 0.2])
    1.0

    A metric written in Python:

    >>> import numpy as np
    >>> class CountPositives(fg.metrics.Metric):
    ...     def __init__(self, name="count_positives", **kwargs):
    ...         super().__init__(name=name, **kwargs)
    ...         self.count = self.add_variable(shape=(), initializer="zeros", name="count")
    ...     def update_state(self, y_true, y_pred, sample_weight=None):
    ...         self.count.assign_add(np.sum(np.asarray(y_pred) > 0.5))
    ...     def result(self):
    ...         return self.count.value
    >>> m = CountPositives()
    >>> m.update_state([1, 0, 1], [0.9, 0.8, 0.1])
    >>> float(m.result())
    2.0
    """

    # The registered classes by the name of their Rust config, and the other names that the
    # Rust core accepts for them.
    _classes: ClassVar[dict[str, type[Metric]]] = {}
    _aliases: ClassVar[dict[str, str]] = {}

    def __init_subclass__(
        cls, registered_as: str | None = None, aliases: tuple[str, ...] = (), **kwargs: Any
    ) -> None:
        super().__init_subclass__(**kwargs)
        if registered_as is None:
            return
        Metric._classes[registered_as] = cls
        Metric._aliases.update(dict.fromkeys(aliases, registered_as))

    def __init__(
        self, config: dict[str, Any] | None = None, name: str | None = None, dtype: Any = None
    ) -> None:
        if isinstance(config, str) and dtype is None:
            # Keras's own order is `Metric(dtype=None, name=None)`.
            config, dtype = None, config
        self._variables: list[MetricVariable] = []
        self.dtype = dtype if isinstance(dtype, str) or dtype is None else str(dtype)
        if config is None:
            self._core = None
            default = re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "_", type(self).__name__).lower()
            self.name = default if name is None else str(name)
            return
        self._core = _core.Metric(json.dumps(config))
        self.name = self._core.name if name is None else str(name)

    @property
    def variables(self) -> list:
        """The state variables of a metric written in Python (empty for a built-in one)."""
        return list(getattr(self, "_variables", []))

    def add_variable(
        self, shape=(), initializer="zeros", dtype=None, aggregation="sum", name=None
    ) -> MetricVariable:
        """A new state variable of this metric (Keras 3's ``Metric.add_variable``).

        Args:
            shape: its shape (default ``()``, a scalar).
            initializer: ``"zeros"`` (default), ``"ones"``, a number or a callable of
                ``(shape, dtype)``; ``reset_state`` puts it back.
            dtype: its dtype (default: the metric's, else ``"float32"``).
            aggregation: accepted for Keras compatibility (one process: nothing to
                aggregate).
            name: its name.

        Returns:
            A ``MetricVariable``.

        Examples:
            >>> class Total(fg.metrics.Metric):
            ...     def __init__(self, **kwargs):
            ...         super().__init__(**kwargs)
            ...         self.total = self.add_variable(shape=(), name="total")
            >>> Total().total.shape
            ()
        """
        variable = MetricVariable(shape, initializer, dtype or self.dtype, name)
        self._variables.append(variable)
        return variable

    def add_weight(
        self, name=None, shape=(), initializer="zeros", dtype=None, aggregation="sum"
    ) -> MetricVariable:
        """A new state variable (the older spelling of ``add_variable``).

        Args:
            name: its name.
            shape: its shape (default ``()``).
            initializer: ``"zeros"`` (default), ``"ones"``, a number or a callable.
            dtype: its dtype (default: the metric's, else ``"float32"``).
            aggregation: accepted for Keras compatibility.

        Returns:
            A ``MetricVariable``.

        Examples:
            >>> class Total(fg.metrics.Metric):
            ...     def __init__(self, **kwargs):
            ...         super().__init__(**kwargs)
            ...         self.total = self.add_weight(name="total", initializer="ones")
            >>> float(Total().total)
            1.0
        """
        return self.add_variable(shape, initializer, dtype, aggregation, name)

    def update_state(self, y_true: Any, y_pred: Any, sample_weight: Any = None) -> None:
        """Accumulates one batch.

        Args:
            y_true: The labels (0/1 values, one-hot rows or integer class labels, as the metric
                expects): a tensor, numpy array or list.
            y_pred: The predictions, probabilities for the classification metrics.
            sample_weight: not supported by the built-in metrics (they are unweighted, as
                Keras 3's ``metrics=`` in ``compile``): must be None.

        Examples:
            >>> m = fg.metrics.BinaryAccuracy()
            >>> m.update_state([1, 0], [0.8, 0.9])
            >>> m.result()
            0.5
        """
        if self._core is None:
            raise NotImplementedError(
                f"{type(self).__name__} is a Metric written in Python: it must define "
                "update_state(self, y_true, y_pred, sample_weight=None)"
            )
        if sample_weight is not None:
            raise ValueError(
                f"metric {self.name!r}: the built-in metrics do not take sample_weight yet "
                "(they are unweighted); received a sample_weight. Write the metric as a "
                "function (y_true, y_pred) and use fg.metrics.MeanMetricWrapper, which weights"
            )
        self._core.update_state(y_true, y_pred)

    def result(self) -> Any:
        """The value over every batch since the last reset (0.0 before any).

        Examples:
            >>> fg.metrics.BinaryAccuracy().result()
            0.0
        """
        if self._core is None:
            raise NotImplementedError(
                f"{type(self).__name__} is a Metric written in Python: it must define result()"
            )
        return self._core.result()

    def reset_state(self) -> None:
        """Forgets every batch seen so far (a metric written in Python: each variable back
        to its initial value).

        Examples:
            >>> m = fg.metrics.BinaryAccuracy()
            >>> m.update_state([1], [0.9])
            >>> m.reset_state()
            >>> m.result()
            0.0
        """
        if self._core is not None:
            self._core.reset_state()
        for variable in getattr(self, "_variables", []):
            variable._reset()

    def __call__(self, y_true: Any, y_pred: Any, sample_weight: Any = None) -> Any:
        """Accumulates one batch and returns the updated result."""
        if sample_weight is None:
            self.update_state(y_true, y_pred)
        else:
            self.update_state(y_true, y_pred, sample_weight=sample_weight)
        return self.result()

    def _params(self) -> dict[str, Any]:
        if self._core is None:
            return {"dtype": self.dtype}
        config = json.loads(self._core.to_json())
        config.pop("name")
        return config

    def get_config(self) -> dict[str, Any]:
        """The constructor arguments, as Keras writes them.

        Examples:
            >>> fg.metrics.BinaryAccuracy().get_config()["threshold"]
            0.5
        """
        return {"name": self.name, **self._params()}

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> Metric:
        """The metric of the constructor arguments that ``get_config`` returns.

        Args:
            config: the dict ``get_config`` returned.

        Returns:
            A new metric of this class, with no state.

        Examples:
            >>> auc = fg.metrics.AUC(curve="PR")
            >>> fg.metrics.AUC.from_config(auc.get_config()).get_config() == auc.get_config()
            True
        """
        return cls(**config)

    @classmethod
    def _from_core_params(cls, params: dict[str, Any], name: str) -> Metric:
        """The metric of the parameters of a Rust config (already validated by the core);
        subclasses whose constructor names them differently override this."""
        return cls(name=name, **params)

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.get_config().items())
        return f"{type(self).__name__}({args})"

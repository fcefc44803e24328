"""The base class of the metrics, and the registry that maps the names used in configs to the
metric classes."""

from __future__ import annotations

import json
from typing import Any, ClassVar

from ferrograd import _core


class Metric:
    """Base class of the metrics: a Rust metric (``self._core``) with a name.

    A subclass registers itself under the name of its Rust config (and its aliases), so that
    `ferrograd.metrics.get` finds it: ``class AUC(Metric, registered_as="auc")``.

    Args:
        config: The metric's config as the Rust core reads it, e.g.
            ``{"name": "binary_accuracy", "threshold": 0.5}``.
        name: The name shown in logs. Defaults to the Keras snake_case name.

    Examples:

    >>> import ferrograd as fg
    >>> m = fg.metrics.Metric({"name": "binary_accuracy"}, name="acc")
    >>> m([1, 0], [0.9, 0.2])
    1.0
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

    def __init__(self, config: dict[str, Any], name: str | None = None) -> None:
        self._core = _core.Metric(json.dumps(config))
        self.name = self._core.name if name is None else str(name)

    def update_state(self, y_true: Any, y_pred: Any) -> None:
        """Accumulates one batch.

        Args:
            y_true: The labels (0/1 values, one-hot rows or integer class labels, as the metric
                expects): a tensor, numpy array or list.
            y_pred: The predictions, probabilities for the classification metrics.
        """
        self._core.update_state(y_true, y_pred)

    def result(self) -> float:
        """The value over every batch since the last reset (0.0 before any)."""
        return self._core.result()

    def reset_state(self) -> None:
        """Forgets every batch seen so far."""
        self._core.reset_state()

    def __call__(self, y_true: Any, y_pred: Any) -> float:
        """Accumulates one batch and returns the updated result."""
        self.update_state(y_true, y_pred)
        return self.result()

    def _params(self) -> dict[str, Any]:
        config = json.loads(self._core.to_json())
        config.pop("name")
        return config

    def get_config(self) -> dict[str, Any]:
        """The constructor arguments, as Keras writes them."""
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

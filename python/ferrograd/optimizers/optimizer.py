"""The base class of the optimizers: what Keras's base optimizer does around an update rule.

Each optimizer holds its Rust state in ``_core`` (a ``ferrograd._core.Optimizer``): the config,
the iteration count and the slot variables. An update runs in Rust, without the GIL: gradient
clipping, decoupled weight decay and the rule in one fused pass per variable.
"""

from __future__ import annotations

import json
import math
import numbers
import re
import warnings
from collections.abc import Iterable
from typing import Any

import numpy as np

from ferrograd import _core
from ferrograd.optimizers import schedules as _schedules
from ferrograd.optimizers.schedules.learning_rate_schedule import _evaluated_in_rust

base_optimizer_keyword_args = """weight_decay: Float or ``None`` (default). If set, every updated
            variable decays before the update: ``w -= w * weight_decay * learning_rate``.
        clipnorm: Float or ``None`` (default). If set, each gradient is rescaled to an L2 norm
            of at most this value.
        clipvalue: Float or ``None`` (default). If set, each gradient element is clipped to
            ``[-clipvalue, clipvalue]``.
        global_clipnorm: Float or ``None`` (default). If set, all gradients are rescaled
            together so that their joint L2 norm is at most this value. At most one of
            ``clipnorm``, ``clipvalue`` and ``global_clipnorm`` may be set.
        name: String. The optimizer's name."""


def _optional_number(name: str, value: Any) -> float | None:
    return None if value is None else _number(name, value)


def _number(name: str, value: Any) -> float:
    """`value` as a float; the range of each argument is checked in Rust."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"Argument `{name}` must be a float. Received: {name}={value!r}")
    if not math.isfinite(value):
        raise ValueError(f"Argument `{name}` must be a finite float. Received: {name}={value!r}")
    return float(value)


def _learning_rate_config(learning_rate: Any) -> tuple[dict[str, Any], Any]:
    """The Rust schedule config for `learning_rate`, and the Python callable to evaluate before
    every update (None when Rust evaluates it)."""
    if _evaluated_in_rust(learning_rate):
        return learning_rate._rust_config(), None
    if isinstance(learning_rate, _schedules.LearningRateSchedule):
        return {
            "name": "constant",
            "value": _number("learning_rate", learning_rate(0)),
        }, learning_rate
    if isinstance(learning_rate, numbers.Real) and not isinstance(learning_rate, bool):
        return {"name": "constant", "value": _number("learning_rate", learning_rate)}, None
    if callable(learning_rate):
        return {
            "name": "constant",
            "value": _number("learning_rate", learning_rate()),
        }, learning_rate
    raise ValueError(
        "Argument `learning_rate` should be float, or an instance of LearningRateSchedule, or a "
        "callable (that takes no arguments and returns the learning rate). "
        f"Received instead: learning_rate={learning_rate!r}"
    )


_REGISTRY: dict[str, type[Optimizer]] = {}
"""The optimizers of this package by lower-case class name (``"adam"``), filled as each
optimizer's module defines its class (see ``Optimizer.__init_subclass__``)."""


def _snake_case(name: str) -> str:
    return re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "_", name).lower()


class Optimizer:
    """The base class of ferrograd's optimizers (see ``SGD``, ``Adam``, ``AdamW``, ``RMSprop``,
    ``Adagrad``, ``Adadelta``).

    Subclasses only describe their update rule; the base class holds the learning rate (a float
    or a schedule), gradient clipping and weight decay, and applies updates.

    Users make the subclasses; the arguments below are the ones they share.

    Args:
        learning_rate: a float, a ``LearningRateSchedule``, or a callable of the step.
        rule: the subclass's update rule and its hyperparameters, as the Rust core reads it.
        weight_decay: decoupled weight decay applied at each update, or None (default None).
        clipnorm: clip each gradient to this norm, or None (default None).
        clipvalue: clip each gradient element to ``[-clipvalue, clipvalue]``, or None
            (default None).
        global_clipnorm: clip all gradients together to this global norm, or None
            (default None).
        name: the optimizer's name; None for the class name in snake case (default None).
        **kwargs: any other Keras argument, which is refused.

    Raises:
        ValueError: an argument this optimizer does not support, or a value that is not a
            finite number.

    Examples:
        A training step written by hand:

        >>> opt = fg.optimizers.SGD(learning_rate=0.1)
        >>> w = fg.tensor([1.0, 2.0], requires_grad=True)
        >>> (w * w).sum().backward()
        >>> opt.apply_gradients([(w.grad, w)])
        1
        >>> w
        tensor([0.8, 1.6], shape=(2,), dtype=float32, requires_grad=True)
    """

    def __init_subclass__(cls, **kwargs: Any) -> None:
        """Registers the optimizers of ``ferrograd.optimizers`` by name, for ``get`` and
        ``deserialize``; a user's subclass is passed in ``custom_objects`` instead, so that it
        never shadows a built-in one."""
        super().__init_subclass__(**kwargs)
        if cls.__module__.startswith("ferrograd.optimizers."):
            _REGISTRY[cls.__name__.lower()] = cls

    def __init__(
        self,
        learning_rate: Any,
        rule: dict[str, Any],
        weight_decay: float | None = None,
        clipnorm: float | None = None,
        clipvalue: float | None = None,
        global_clipnorm: float | None = None,
        name: str | None = None,
        **kwargs: Any,
    ):
        if kwargs:
            raise ValueError(f"Argument(s) not recognized: {kwargs}")
        self.name = name if name is not None else _snake_case(type(self).__name__)
        self.weight_decay = _optional_number("weight_decay", weight_decay)
        self.clipnorm = _optional_number("clipnorm", clipnorm)
        self.clipvalue = _optional_number("clipvalue", clipvalue)
        self.global_clipnorm = _optional_number("global_clipnorm", global_clipnorm)
        schedule, self._learning_rate_fn = _learning_rate_config(learning_rate)
        self._learning_rate = learning_rate
        self._rule = rule
        for key, value in rule.items():
            if key != "name":
                setattr(self, key, value)
        config = {
            "rule": rule,
            "learning_rate": schedule,
            "weight_decay": self.weight_decay,
            "clipnorm": self.clipnorm,
            "clipvalue": self.clipvalue,
            "global_clipnorm": self.global_clipnorm,
        }
        self._core = _core.Optimizer(json.dumps(config, allow_nan=False))
        self._variables: list[Any] | None = None

    # -- learning rate and iterations ----------------------------------------------------------

    @property
    def iterations(self) -> int:
        """The number of updates made so far."""
        return self._core.iterations

    @iterations.setter
    def iterations(self, value: int) -> None:
        if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < 0:
            raise ValueError(f"`iterations` must be an integer >= 0. Received: {value!r}")
        self._core.iterations = int(value)

    @property
    def learning_rate(self) -> float:
        """The learning rate the next update will use (a schedule evaluated at ``iterations``).

        Assigning a float replaces the rate, and any schedule, with that constant; assigning a
        schedule replaces the schedule.
        """
        value = self._python_learning_rate()
        return self._core.learning_rate if value is None else value

    @learning_rate.setter
    def learning_rate(self, learning_rate: Any) -> None:
        schedule, fn = _learning_rate_config(learning_rate)
        if schedule["name"] == "constant" and fn is None:
            self._core.set_learning_rate(schedule["value"])
        else:
            self._core.set_schedule(json.dumps(schedule, allow_nan=False))
        self._learning_rate = learning_rate
        self._learning_rate_fn = fn

    @property
    def _uses_python_schedule(self) -> bool:
        """Whether the learning rate is evaluated in Python (a user schedule or a callable)."""
        return self._learning_rate_fn is not None

    def _sync_learning_rate(self) -> None:
        """Evaluates a Python schedule at ``iterations`` and hands the value to the Rust state,
        for a training loop that calls ``_core`` directly (``apply_gradients`` does this by
        itself)."""
        value = self._python_learning_rate()
        if value is not None:
            self._core.set_learning_rate(value)

    def _python_learning_rate(self) -> float | None:
        """The rate of a schedule evaluated in Python, or None when Rust evaluates it."""
        fn = self._learning_rate_fn
        if fn is None:
            return None
        if isinstance(fn, _schedules.LearningRateSchedule):
            return float(fn(self.iterations))
        return float(fn())

    # -- updates ---------------------------------------------------------------------------------

    def apply_gradients(self, grads_and_vars: Iterable[tuple[Any, Any]]) -> int:
        """Applies one update with ``(gradient, variable)`` pairs.

        Gradients may be Tensors or numpy arrays; a ``None`` gradient leaves its variable alone.

        Args:
            grads_and_vars: Iterable of ``(gradient, variable)`` pairs.

        Returns:
            The number of updates made so far (``iterations``).
        """
        pairs = list(grads_and_vars)
        if pairs:
            grads, variables = zip(*pairs, strict=True)
            self.apply(list(grads), list(variables))
        return self.iterations

    def apply(self, grads: Iterable[Any], trainable_variables: Iterable[Any] | None = None) -> None:
        """Applies one update: ``grads`` to ``trainable_variables``, one to one.

        ``trainable_variables`` may be left out after the first call, to update the variables
        the optimizer was first used with.

        Args:
            grads: the gradients (Tensors or numpy arrays; None leaves its variable alone,
                with a warning).
            trainable_variables: the tensors to update, one per gradient; None for the
                variables of the first call (default None).

        Raises:
            ValueError: no variables known yet, counts that differ, or only None gradients.

        Examples:
            >>> opt = fg.optimizers.SGD(learning_rate=0.1)
            >>> w = fg.tensor([1.0, 2.0], requires_grad=True)
            >>> opt.apply([np.array([1.0, 1.0], dtype="float32")], [w])
            >>> opt.apply([np.array([1.0, 1.0], dtype="float32")])
            >>> w.numpy().round(4)
            array([0.8, 1.8], dtype=float32)
        """
        grads = list(grads)
        if not grads:
            return
        if trainable_variables is None:
            if self._variables is None:
                raise ValueError(
                    "When passing `grads` without `variables`, the optimizer must already have "
                    "been used with a list of variables."
                )
            variables = self._variables
        else:
            variables = list(trainable_variables)
            if self._variables is None:
                self._variables = variables
        if len(grads) != len(variables):
            raise ValueError(
                f"Received {len(grads)} gradients for {len(variables)} variables; they must "
                "match one to one."
            )
        kept = [(g, v) for g, v in zip(grads, variables, strict=True) if g is not None]
        if not kept:
            raise ValueError("No gradients provided for any variable.")
        if len(kept) < len(grads):
            missing = [i for i, g in enumerate(grads) if g is None]
            warnings.warn(
                f"Gradients do not exist for variables {missing} (by position); they were not "
                "updated.",
                stacklevel=2,
            )
        self._core.apply([v for _, v in kept], [g for g, _ in kept], self._python_learning_rate())

    # -- state -----------------------------------------------------------------------------------

    def save_own_variables(self, store: dict[str, Any]) -> None:
        """Writes the optimizer's state into ``store``: ``"iterations"`` and one array per slot
        variable, named ``"{variable index}/{slot name}"``.

        Args:
            store: a dict to fill with numpy arrays.

        Examples:
            >>> w = fg.tensor([1.0, 2.0], requires_grad=True)
            >>> adam = fg.optimizers.Adam()
            >>> adam.apply([np.ones(2, "float32")], [w])
            >>> store = {}
            >>> adam.save_own_variables(store)
            >>> sorted(store)
            ['0/momentum', '0/velocity', 'iterations']
        """
        store["iterations"] = np.asarray(self.iterations, dtype=np.int64)
        for name, value in self._core.slots(self._variables or []):
            store[name] = value

    def load_own_variables(self, store: dict[str, Any]) -> None:
        """Reads back what ``save_own_variables`` wrote; checks everything before changing
        anything. The optimizer must know its variables (``apply`` called once, or
        ``build(variables)``).

        Args:
            store: the dict ``save_own_variables`` filled.

        Raises:
            ValueError: slot variables for an optimizer that does not know its variables yet,
                a negative ``iterations``, or names or shapes that do not match.

        Examples:
            >>> w = fg.tensor([1.0, 2.0], requires_grad=True)
            >>> adam = fg.optimizers.Adam()
            >>> adam.apply([np.ones(2, "float32")], [w])
            >>> store = {}
            >>> adam.save_own_variables(store)
            >>> fresh = fg.optimizers.Adam()
            >>> fresh.build([w])
            >>> fresh.load_own_variables(store)
            >>> fresh.iterations
            1
        """
        slots = [(k, v) for k, v in store.items() if k != "iterations"]
        if slots and self._variables is None:
            raise ValueError(
                "Call `build(variables)` (or apply one update) before loading the optimizer's "
                "slot variables, so that it knows which variables they belong to."
            )
        iterations = int(np.asarray(store.get("iterations", self.iterations)))
        if iterations < 0:
            raise ValueError(f"`iterations` must be >= 0. Received: {iterations}")
        self._core.load_slots(self._variables or [], slots)
        self._core.iterations = iterations

    def build(self, variables: Iterable[Any]) -> None:
        """Tells the optimizer the variables it will update (their slots are made on the first
        update).

        Args:
            variables: the tensors to update, in the order gradients will be given.

        Examples:
            >>> w = fg.tensor([1.0, 2.0], requires_grad=True)
            >>> opt = fg.optimizers.Adam()
            >>> opt.build([w])
            >>> len(opt.variables)
            1
        """
        self._variables = list(variables)

    @property
    def variables(self) -> list[Any]:
        """The variables the optimizer updates (those of its first ``apply``)."""
        return list(self._variables or [])

    # -- config ----------------------------------------------------------------------------------

    def get_config(self) -> dict[str, Any]:
        """The optimizer's arguments, from which ``from_config`` makes a new one (without
        state)."""
        fn = self._learning_rate_fn
        learning_rate: Any
        if isinstance(self._learning_rate, _schedules.LearningRateSchedule):
            learning_rate = _schedules.serialize(self._learning_rate)
        elif fn is not None:
            learning_rate = self._learning_rate
        else:
            learning_rate = self._core.learning_rate
        config = {
            "name": self.name,
            "learning_rate": learning_rate,
            "weight_decay": self.weight_decay,
            "clipnorm": self.clipnorm,
            "global_clipnorm": self.global_clipnorm,
            "clipvalue": self.clipvalue,
        }
        config.update({k: v for k, v in self._rule.items() if k != "name"})
        return config

    @classmethod
    def from_config(
        cls, config: dict[str, Any], custom_objects: dict[str, Any] | None = None
    ) -> Optimizer:
        """Creates an optimizer from the output of ``get_config()`` (without the state).

        Args:
            config: the dict ``get_config`` returned.
            custom_objects: user-defined learning-rate schedule classes by name, for a
                schedule in the config (default None).

        Returns:
            A new optimizer of this class.

        Examples:
            >>> opt = fg.optimizers.SGD(learning_rate=0.1, momentum=0.9)
            >>> fg.optimizers.SGD.from_config(opt.get_config()).momentum
            0.9
        """
        config = dict(config)
        if isinstance(config.get("learning_rate"), dict):
            config["learning_rate"] = _schedules.deserialize(
                config["learning_rate"], custom_objects=custom_objects
            )
        return cls(**config)

    def _core_config(self) -> dict[str, Any]:
        """The Rust config (what a model file stores)."""
        return json.loads(self._core.config_json())

    def __repr__(self) -> str:
        lr = self._learning_rate
        shown = type(lr).__name__ if callable(lr) else lr
        return (
            f"<{type(self).__name__} name={self.name!r} learning_rate={shown} "
            f"iterations={self.iterations}>"
        )

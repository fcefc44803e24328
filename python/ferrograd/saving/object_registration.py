"""Classes written in Python that model files may name: Keras's rule. A file never makes
ferrograd import anything; a class it names is found only among those the loading program
registered (``@register_keras_serializable``) or passed (``load_model(custom_objects=...)``)."""

from __future__ import annotations

import contextlib
import threading

_registered: dict[str, type] = {}
_scope = threading.local()


def register_keras_serializable(package: str = "Custom", name: str | None = None):
    """Registers a class (a subclassed ``Model`` or ``Layer``) under ``"{package}>{name}"``,
    so that ``load_model`` can rebuild the models that use it, as Keras's decorator does.

    Args:
        package: the namespace of the name (default ``"Custom"``).
        name: the name (default the class's name).

    Returns:
        A decorator that registers the class and returns it unchanged.

    Raises:
        ValueError: another class holds the name already.

    Examples:
        >>> @fg.saving.register_keras_serializable(package="Docs")
        ... class Twice(fg.layers.Layer):
        ...     def call(self, inputs):
        ...         return inputs * 2.0
        >>> fg.saving.get_registered_name(Twice)
        'Docs>Twice'
    """

    def decorate(cls):
        key = f"{package}>{name or cls.__name__}"
        known = _registered.get(key)
        if known is not None and (known.__module__, known.__qualname__) != (
            cls.__module__,
            cls.__qualname__,
        ):
            raise ValueError(f"{key!r} is already registered to {known!r}")
        _registered[key] = cls
        cls._registered_name = key
        return cls

    return decorate


def get_registered_name(cls) -> str:
    """The name model files give ``cls``: its registered name, else its class name.

    Args:
        cls: a class.

    Examples:
        >>> fg.saving.get_registered_name(fg.layers.Dense)
        'Dense'
    """
    return cls.__dict__.get("_registered_name", cls.__name__)


@contextlib.contextmanager
def custom_object_scope(custom_objects: dict | None):
    """Makes ``custom_objects`` (name to class) findable while loading, as Keras's
    ``custom_object_scope``.

    Args:
        custom_objects: the classes by the names a file may give them.

    Examples:
        >>> with fg.saving.custom_object_scope({"Twice": object}):
        ...     find_class("Twice") is object
        True
    """
    previous = _scope.__dict__.get("objects", {})
    _scope.objects = {**previous, **dict(custom_objects or {})}
    try:
        yield
    finally:
        _scope.objects = previous


def find_class(name: str):
    """The class a model file names, among those passed in ``custom_objects`` (by registered
    name or class name) and those registered; None when the program gave none.

    Args:
        name: the name in the file.

    Examples:
        >>> find_class("NoSuchClass") is None
        True
    """
    scoped = _scope.__dict__.get("objects", {})
    if name in scoped:
        return scoped[name]
    for cls in scoped.values():
        if isinstance(cls, type) and get_registered_name(cls) == name:
            return cls
    if name in _registered:
        return _registered[name]
    short = name.split(">")[-1]
    return scoped.get(short)

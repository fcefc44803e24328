"""The layer registry: the name a model file gives a layer (its ``kind``, Keras's class name)
mapped to the Python class that rebuilds it.

A layer class registers itself when it is defined (``Layer.__init_subclass__``), so adding a
layer is its file and one import line in ``ferrograd/layers/__init__.py``; the model-file reader
(``ferrograd.saving``) looks kinds up here instead of in a hand-kept list.
"""

from __future__ import annotations

_classes: dict[str, type] = {}


def register_layer(cls: type) -> type:
    """Records ``cls`` under its ``kind``, unless another class holds that kind already.

    The first class to define a kind keeps it: a class that inherits its ``kind`` (a user's
    subclass of ``Dense``) is not recorded, and neither is a user's class that sets a built-in
    kind again (it still builds that Rust layer, but model files rebuild the built-in class).
    The same class defined again (its module reloaded) replaces its earlier self.

    Args:
        cls: a ``Layer`` subclass; classes without a ``kind`` of their own are skipped.

    Returns:
        ``cls``, so that this also works as a decorator.

    Examples:
        >>> registered_layers()["Dense"] is layers.Dense
        True
    """
    kind = cls.__dict__.get("kind")
    if not kind:
        return cls
    known = _classes.get(kind)
    if known is None or (known.__module__, known.__qualname__) == (
        cls.__module__,
        cls.__qualname__,
    ):
        _classes[kind] = cls
    return cls


def registered_layers() -> dict[str, type]:
    """Every registered layer class, by kind (a copy).

    Args:
        None.

    Examples:
        >>> registered_layers()["Dense"].__name__, "Add" in registered_layers()
        ('Dense', True)
    """
    return dict(_classes)

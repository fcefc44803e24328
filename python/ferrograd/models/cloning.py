"""``clone_model``: a new model of the same architecture with fresh weights."""

from __future__ import annotations

from ferrograd import saving


def clone_model(model, input_tensors=None, clone_function=None, call_function=None, **kwargs):
    """A new model of ``model``'s architecture (its layers' classes, names and settings, its
    wiring, nested models included) with newly initialised weights, as Keras's
    ``clone_model``. The clone is not compiled.

    Args:
        model: a ``Sequential`` or functional ``Model``.
        input_tensors, clone_function, call_function: Keras's hooks to change the copy; not
            supported (they run Python on every layer), only their default None.

    Raises:
        ValueError: a hook was given.

    Returns:
        A new, uncompiled model of the same class and architecture.

    Examples:
        >>> copy = fg.models.clone_model(model)
        >>> copy.count_params() == model.count_params()
        True
    """
    from ferrograd.models.model import Model
    from ferrograd.models.sequential import Sequential

    hooks = {
        "input_tensors": input_tensors,
        "clone_function": clone_function,
        "call_function": call_function,
        **kwargs,
    }
    given = [name for name, value in hooks.items() if value is not None]
    if given:
        raise ValueError(
            f"clone_model: the argument(s) {given} are not supported; ferrograd clones the "
            "architecture as it is"
        )
    if not isinstance(model, Model):
        raise TypeError(f"clone_model takes a model, received {model!r}")
    if isinstance(model, Sequential) and not model.built:
        entries = [saving.layer_entry(layer) for layer in model.layers]
        return saving.unbuilt_sequential(model.name, entries)
    return saving.model_from_config(saving.model_config(model), f"model {model.name!r}")

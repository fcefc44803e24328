"""Models: ``Sequential`` and the functional ``Model``, with Keras's ``compile``/``fit``/
``evaluate``/``predict``/``summary``, and ``load_model``.

The loops of ``fit``, ``evaluate`` and ``predict`` run in Rust with the GIL released; Python is
called back only for the progress bar and the callbacks. The package holds one thing per file:
``model.py`` (``Model``), ``sequential.py``, ``summary.py`` (the summary table), ``progress.py``
(what the loops call back), ``topology.py`` (the order of a functional graph); the data
preparation shared by the three loops is ``ferrograd.data_adapter``.

Examples:
    >>> x20 = np.random.default_rng(0).normal(size=(64, 20)).astype("float32")
    >>> y20 = (x20[:, 0] > 0).astype("float32")
    >>> model = fg.Sequential([
    ...     layers.Dense(64, activation="relu", input_shape=(20,)),
    ...     layers.Dense(1, activation="sigmoid"),
    ... ])
    >>> model.compile(optimizer="adam", loss="binary_crossentropy", metrics=["accuracy"])
    >>> history = model.fit(x20, y20, epochs=10, batch_size=32, validation_split=0.1, verbose=0)
    >>> sorted(history.history)
    ['accuracy', 'loss', 'val_accuracy', 'val_loss']
"""

from __future__ import annotations

from ferrograd import saving
from ferrograd.models.cloning import clone_model
from ferrograd.models.model import Model
from ferrograd.models.sequential import Sequential


def load_model(filepath, custom_objects=None, compile=True, safe_mode=True):
    """The model saved by ``model.save(filepath)``, ready to predict and to continue training;
    or the model of a ``.keras`` file that Keras 3 wrote (its optimizer's state starts fresh;
    needs h5py: ``pip install 'ferrograd[keras]'``).

    Args:
        filepath: the ``.fgm`` file, or a Keras 3 ``.keras`` file.
        custom_objects: the classes written in Python that the file names (a subclassed
            model's class), by name, as Keras's argument.
        compile: restore the compile settings and the optimizer's state (default True).
        safe_mode: accepted for Keras's signature; a file never runs code either way.

    Examples:
        >>> model.save("model.fgm")
        >>> same = fg.models.load_model("model.fgm")
    """
    return saving.load_model(filepath, compile=compile, custom_objects=custom_objects)


def model_from_json(json_string):
    """A new model (fresh weights) from ``model.to_json()``'s text, ferrograd's or Keras 3's.

    Args:
        json_string: the JSON text.

    Returns:
        A new, uncompiled model with freshly initialised weights.

    Raises:
        FileFormatError: the text is not JSON or breaks the schema.

    Examples:
        >>> copy = fg.models.model_from_json(model.to_json())
        >>> copy.count_params() == model.count_params()
        True
    """
    return saving.model_from_json(json_string)


__all__ = ["Model", "Sequential", "clone_model", "load_model", "model_from_json"]

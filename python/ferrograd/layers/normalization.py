"""``Normalization``: features shifted and scaled by a mean and variance fixed before training,
given or computed from data with ``adapt``."""

from __future__ import annotations

import numpy as np

from ferrograd._core import Tensor
from ferrograd.layers.layer import Layer


def _axis_tuple(axis):
    """Keras's ``axis``: an int, a tuple/list of ints, or None; as a tuple (None for None)."""
    if axis is None:
        return None
    if isinstance(axis, (int, np.integer)) and not isinstance(axis, bool):
        return (int(axis),)
    if isinstance(axis, (list, tuple)) and all(
        isinstance(a, (int, np.integer)) and not isinstance(a, bool) for a in axis
    ):
        return tuple(int(a) for a in axis)
    raise ValueError(
        f"Normalization: axis must be an int, a tuple of ints or None. Received: axis={axis!r}"
    )


class Normalization(Layer):
    """Normalises continuous features: ``(x - mean) / sqrt(variance)`` (the square root floored
    at 1e-7, Keras's epsilon), or with ``invert=True`` the inverse ``mean + x * sqrt(variance)``.

    The statistics are either given (``mean`` and ``variance``, scalars or arrays that
    broadcast to the kept axes), or learned by ``adapt(data)`` before training and stored as the
    non-trainable weights ``mean``, ``variance`` and ``count`` (as Keras 3).

    Args:
        axis: the axes that keep their own statistics (default -1: one mean and variance per
            feature); a tuple of axes, or None for one mean and variance over everything.
        mean: the mean to use, or None to ``adapt``.
        variance: the variance to use, or None to ``adapt``.
        invert: apply the inverse transformation (de-normalise).
        **kwargs: ``name``, ``trainable``, ``dtype`` (as every layer).

    Input shape: any, the kept axes of known size. Output shape: the same.

    Examples:
        >>> layer = layers.Normalization(axis=None)
        >>> layer.adapt(np.array([1.0, 2.0, 3.0, 4.0, 5.0], "float32")[:, None])
        >>> layer(np.array([[1.0], [2.0], [3.0]], "float32")).numpy().ravel().round(4)
        array([-1.4142, -0.7071,  0.    ], dtype=float32)
    """

    kind = "Normalization"

    def __init__(self, axis=-1, mean=None, variance=None, invert=False, **kwargs):
        super().__init__(**kwargs)
        self.axis = _axis_tuple(axis)
        if (mean is None) != (variance is None):
            raise ValueError(
                "Normalization: when setting values directly, both mean and variance must be "
                f"set. Received: mean={mean!r} and variance={variance!r}"
            )
        self.input_mean = None if mean is None else np.asarray(mean, dtype=np.float64)
        self.input_variance = None if variance is None else np.asarray(variance, dtype=np.float64)
        if self.input_variance is not None and np.any(~(self.input_variance >= 0)):
            raise ValueError(
                f"Normalization: variance must be non-negative. Received: variance={variance!r}"
            )
        self.invert = bool(invert)

    def _kept_axes(self, input_shape) -> list:
        rank = len(input_shape)
        return sorted(a % rank for a in (self.axis or ()))

    def _statistic(self, values, input_shape):
        """A given mean or variance broadcast to the kept axes, flattened (one value for all
        when it is a scalar)."""
        if values.ndim == 0:
            return [float(values)]
        kept = [input_shape[a] for a in self._kept_axes(input_shape)]
        try:
            return np.broadcast_to(values, kept).astype(np.float64).ravel().tolist()
        except ValueError:
            raise ValueError(
                f"Normalization: mean and variance of shape {values.shape} do not broadcast to "
                f"the kept axes' shape {tuple(kept)} (axis={self.axis})"
            ) from None

    def build(self, input_shape) -> None:
        """Creates the statistics for inputs of ``input_shape``.

        Args:
            input_shape: the input's shape, batch axis first (a tuple of ints or None).

        Examples:
            >>> norm = layers.Normalization(mean=1.0, variance=4.0)
            >>> norm.build((None, 3))
            >>> norm.built
            True
        """
        self._build_shape = tuple(input_shape)
        super().build(input_shape)

    def settings(self) -> dict:
        """The settings the Rust layer is built from."""
        settings = {
            "axis": None if self.axis is None else list(self.axis),
            "invert": self.invert,
            "mean": None,
            "variance": None,
        }
        if self.input_mean is not None:
            # Laid out over the kept axes, which need the input's shape (known at build).
            shape = getattr(self, "_build_shape", None)
            for key, values in (("mean", self.input_mean), ("variance", self.input_variance)):
                settings[key] = (
                    values.ravel().tolist() if shape is None else self._statistic(values, shape)
                )
        return settings

    @property
    def mean(self):
        """The mean the layer subtracts (after ``adapt``, or as given), shaped to broadcast
        against an input as Keras's ``layer.mean`` is: 1 on the axes not kept."""
        return self._statistic_for_inputs(0, self.input_mean)

    @property
    def variance(self):
        """The variance the layer divides by (its square root), shaped as ``mean``."""
        return self._statistic_for_inputs(1, self.input_variance)

    def _statistic_for_inputs(self, index, given):
        if not self.built:
            return given
        shape = self._input_shape
        broadcast = [1] * len(shape)
        for axis in self._kept_axes(shape):
            broadcast[axis] = shape[axis]
        return np.asarray(self.get_weights()[index]).reshape(broadcast)

    def get_config(self) -> dict:
        """Keras's config: ``axis``, ``invert``, ``mean`` and ``variance`` (as lists)."""
        config = {"name": self.name, "trainable": self.trainable, "dtype": self.dtype}
        config["axis"] = self.axis
        config["invert"] = self.invert
        config["mean"] = None if self.input_mean is None else self.input_mean.tolist()
        config["variance"] = None if self.input_variance is None else self.input_variance.tolist()
        return config

    @classmethod
    def from_settings(cls, settings: dict, **options):
        """The layer a model file describes (flattened statistics are reshaped at build).

        Args:
            settings: the layer's settings, as ``settings()`` returns them.
            **options: the common layer options (``name``, ``trainable``, ...).

        Returns:
            A new ``Normalization``.

        Examples:
            >>> norm = layers.Normalization.from_settings({"axis": [-1], "invert": False})
            >>> norm.axis
            (-1,)
        """
        return cls(**settings, **options)

    def adapt(self, data, batch_size=None, steps=None) -> None:
        """Computes the mean and variance of ``data`` over the axes not kept, and stores them.

        Args:
            data: a numpy array (or array-like) of samples, batch axis first, or an iterable of
                such batches (a generator, a ``PyDataset``, a list of arrays...).
            batch_size: Keras's; only None is accepted (the data are read whole).
            steps: Keras's; only None is accepted (the data are read whole).

        Examples:
            >>> norm = layers.Normalization()
            >>> norm.adapt(np.array([[0.0, 7.0], [2.0, 9.0]], "float32"))
            >>> norm.get_weights()[0]
            array([1., 8.], dtype=float32)
        """
        if batch_size is not None or steps is not None:
            raise ValueError(
                "Normalization.adapt: batch_size and steps are not supported (the data are "
                f"read whole). Received: batch_size={batch_size!r}, steps={steps!r}"
            )
        if self.input_mean is not None:
            raise ValueError(
                "Normalization.adapt: the layer was given mean and variance; adapt computes "
                "them, so create it without"
            )
        if isinstance(data, Tensor):
            data = data.numpy()
        if isinstance(data, (list, tuple)):
            try:
                data = np.asarray(data, dtype=np.float64)
            except ValueError:
                pass  # batches of different lengths: read one by one below
        if isinstance(data, np.ndarray):
            batches = [data.astype(np.float64)]
        else:
            batches = (
                np.asarray(b.numpy() if isinstance(b, Tensor) else b, dtype=np.float64)
                for b in data
            )
        total = total_squares = None
        count = 0
        declared = self._input_shape_arg
        for batch in batches:
            if declared is not None and batch.ndim == len(declared) and declared[-1] == 1:
                # Keras's rank adjustment: a column of values for input_shape=(..., 1).
                batch = batch[..., None]
            if not self.built:
                self.build((None, *batch.shape[1:]))
            rank = len(self._input_shape)
            if batch.ndim != rank:
                raise ValueError(
                    f"Normalization.adapt: the data have rank {batch.ndim}, the layer was built "
                    f"for rank {rank}"
                )
            kept = self._kept_axes(self._input_shape)
            reduce = tuple(a for a in range(rank) if a not in kept)
            # Sums about a shift (the first batch's mean) keep the variance accurate.
            if total is None:
                shift = batch.mean(axis=reduce, keepdims=True)
                total = np.zeros_like(shift)
                total_squares = np.zeros_like(shift)
            centred = batch - shift
            total = total + centred.sum(axis=reduce, keepdims=True)
            total_squares = total_squares + (centred**2).sum(axis=reduce, keepdims=True)
            count += int(np.prod([batch.shape[a] for a in reduce]))
        if count == 0:
            raise ValueError("Normalization.adapt: the data are empty")
        mean = total / count
        variance = np.maximum(total_squares / count - mean**2, 0.0)
        # Keras's weight shapes: the kept axes only.
        self.set_weights(
            [
                np.squeeze(mean + shift, axis=reduce),
                np.squeeze(variance, axis=reduce),
                np.array(count, dtype=np.float64),
            ]
        )

"""``Embedding``: integer token ids to dense vectors."""

from __future__ import annotations

import numpy as np

from ferrograd import initializers, regularizers
from ferrograd._core import Tensor
from ferrograd.layers.layer import regularizer_settings
from ferrograd.layers.mask_tracking import MaskAwareLayer


class Embedding(MaskAwareLayer):
    """Turns token ids into vectors: row ``i`` of the ``embeddings`` table for id ``i``.

    Args:
        input_dim: the vocabulary size; ids must lie in ``[0, input_dim)``.
        output_dim: the size of each vector.
        embeddings_initializer: default ``"uniform"`` (Keras's: uniform in [-0.05, 0.05]).
        embeddings_regularizer: default None.
        mask_zero: treat id 0 as padding (default False): the layers after it skip those
            steps. Keep id 0 out of the vocabulary then (``input_dim`` = vocabulary + 1).

    Input shape: ``(batch, time)`` of integer ids (any numeric dtype holding integers; a
    model's float32 input holds them exactly). Output shape: ``(batch, time, output_dim)``.

    Examples:
        >>> embedding = layers.Embedding(1000, 64, mask_zero=True)
        >>> embedding(np.array([[4, 20, 0]])).shape
        (1, 3, 64)
    """

    kind = "Embedding"

    def __init__(
        self,
        input_dim,
        output_dim,
        embeddings_initializer="uniform",
        embeddings_regularizer=None,
        *,
        mask_zero=False,
        **kwargs,
    ):
        super().__init__(**kwargs)
        for name, value in (("input_dim", input_dim), ("output_dim", output_dim)):
            if not isinstance(value, (int, np.integer)) or isinstance(value, bool) or value <= 0:
                raise ValueError(f"{name} must be a positive integer. Received: {name}={value!r}")
        self.input_dim = int(input_dim)
        self.output_dim = int(output_dim)
        if embeddings_initializer == "uniform":
            embeddings_initializer = initializers.RandomUniform(-0.05, 0.05)
        self.embeddings_initializer = initializers.get(embeddings_initializer)
        self.embeddings_regularizer = regularizers.get(embeddings_regularizer)
        self.mask_zero = bool(mask_zero)

    def settings(self) -> dict:
        """The settings the Rust layer is built from."""
        return {
            "input_dim": self.input_dim,
            "output_dim": self.output_dim,
            "embeddings_initializer": self.embeddings_initializer._settings(),
            "embeddings_regularizer": regularizer_settings(self.embeddings_regularizer),
            "mask_zero": self.mask_zero,
        }

    def compute_mask(self, inputs, mask=None):
        """``inputs != 0`` with ``mask_zero``, else None: the mask that later layers
        (recurrent layers, pooling) use to skip padding.

        Args:
            inputs: the token ids, a tensor or array.
            mask: the incoming mask, unused (default None).

        Returns:
            A boolean numpy array of the shape of ``inputs``, or None.

        Examples:
            >>> embedding = layers.Embedding(10, 2, mask_zero=True)
            >>> embedding.compute_mask(np.array([[3, 1, 0]]))
            array([[ True,  True, False]])
        """
        if not self.mask_zero:
            return None
        ids = inputs.numpy() if isinstance(inputs, Tensor) else np.asarray(inputs)
        return ids != 0

    @property
    def embeddings(self):
        entries = self._weight_entries()
        return entries[0][1] if entries else None

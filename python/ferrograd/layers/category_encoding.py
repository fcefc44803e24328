"""``CategoryEncoding``: integer category ids to one-hot, multi-hot or count vectors."""

from __future__ import annotations

from ferrograd.layers.layer import Layer

_MODES = ("one_hot", "multi_hot", "count")


class CategoryEncoding(Layer):
    """Encodes integer ids in ``[0, num_tokens)``.

    ``"one_hot"`` gives one vector per id: ids of shape ``(batch,)`` or ``(batch, 1)`` give
    ``(batch, num_tokens)``, ``(batch, n)`` gives ``(batch, n, num_tokens)``. ``"multi_hot"``
    (the default) marks, and ``"count"`` counts, the ids of each sample of a ``(batch, n)``
    input in one ``(batch, num_tokens)`` vector. An id outside the range raises ValueError, as
    in Keras.

    Args:
        num_tokens: the number of categories.
        output_mode: ``"multi_hot"`` (default), ``"one_hot"`` or ``"count"``.
        sparse: Keras's; only False is supported (dense outputs).
        **kwargs: ``name``, ``trainable``, ``dtype`` (as every layer).

    Examples:
        >>> layer = layers.CategoryEncoding(num_tokens=4, output_mode="one_hot")
        >>> layer(np.array([3, 2, 0, 1])).numpy()[0]
        array([0., 0., 0., 1.], dtype=float32)
    """

    kind = "CategoryEncoding"

    def __init__(self, num_tokens=None, output_mode="multi_hot", sparse=False, **kwargs):
        super().__init__(**kwargs)
        if not isinstance(num_tokens, int) or isinstance(num_tokens, bool) or num_tokens <= 0:
            raise ValueError(
                "CategoryEncoding: num_tokens must be a positive integer. Received: "
                f"num_tokens={num_tokens!r}"
            )
        if output_mode not in _MODES:
            raise ValueError(
                f"CategoryEncoding: output_mode must be one of {_MODES}. Received: "
                f"output_mode={output_mode!r}"
            )
        if sparse:
            raise ValueError(
                "CategoryEncoding: sparse=True is not supported (outputs are dense). "
                "Received: sparse=True"
            )
        self.num_tokens = num_tokens
        self.output_mode = output_mode
        self.sparse = False

    def settings(self) -> dict:
        """The settings the Rust layer is built from."""
        return {"num_tokens": self.num_tokens, "output_mode": self.output_mode}

    def __call__(self, inputs, training=None, count_weights=None, **kwargs):
        """Encodes ``inputs``; Keras's ``count_weights`` is not supported (ValueError)."""
        if count_weights is not None:
            raise ValueError("CategoryEncoding: count_weights is not supported")
        return super().__call__(inputs, training, **kwargs)

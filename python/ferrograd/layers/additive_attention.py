"""``AdditiveAttention``: Keras's additive (Bahdanau-style) attention layer."""

from __future__ import annotations

from ferrograd.layers.attention import Attention


class AdditiveAttention(Attention):
    """Additive attention (Bahdanau-style) as Keras 3's ``AdditiveAttention``: scores
    ``sum(scale * tanh(query + key))`` over the features, a softmax over the keys, then the
    weighted sum of ``value``; calls, masks and outputs as ``Attention``.

    Args:
        use_scale: learn a ``(dim,)`` ``scale`` (glorot-uniform); without it the scores are
            ``sum(tanh(query + key))``.
        dropout: the dropout rate on the attention probabilities (training only).
        seed: not supported (ferrograd draws from ``fg.set_seed``'s generator); must be None.
        **kwargs: ``name``, ``trainable``, ``dtype`` (as every layer).

    Examples:
        >>> q, v = np.ones((2, 3, 4), "float32"), np.ones((2, 5, 4), "float32")
        >>> layers.AdditiveAttention()([q, v]).shape
        (2, 3, 4)
    """

    kind = "AdditiveAttention"

    def __init__(self, use_scale=True, dropout=0.0, seed=None, **kwargs):
        super().__init__(use_scale=use_scale, dropout=dropout, seed=seed, **kwargs)

    def settings(self):
        """The settings the Rust layer is built from."""
        settings = super().settings()
        del settings["score_mode"]
        return settings

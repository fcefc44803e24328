"""``StringLookup``: strings to integer indices through a vocabulary (a preprocessing step that
runs in Python before the numeric graph)."""

from __future__ import annotations

import numpy as np

from ferrograd.layers.index_lookup import IndexLookup, _StringTokens


class StringLookup(_StringTokens, IndexLookup):
    """Maps strings to indices: index 0 is the mask token when ``mask_token`` is set, then the
    OOV index (``"[UNK]"``, for any string outside the vocabulary), then the vocabulary,
    learned by ``adapt`` (most frequent first) or given.

    The string step runs in Python on numpy arrays before the numeric graph: call the layer on
    the data and feed the model its ids (it cannot sit inside a model).

    Args:
        max_tokens: the largest vocabulary, special tokens included (default: no limit).
        num_oov_indices: 1 (default) or 0 (unknown strings raise ValueError); several hashed
            OOV buckets are not supported.
        mask_token: a string mapped to index 0 (default None: no mask index).
        oov_token: the OOV token's name in the vocabulary (default ``"[UNK]"``).
        vocabulary: a list or array of strings, or a text file of one per line.
        **kwargs: ``invert`` (map indices back to the tokens, default False),
            ``output_mode`` (``"int"``, the default, ``"one_hot"``, ``"multi_hot"`` or
            ``"count"``), ``pad_to_max_tokens`` (with the encodings, make their width
            ``max_tokens``; default False), and ``name`` as every layer.

    Examples:
        >>> lookup = layers.StringLookup(vocabulary=["a", "b", "c", "d"])
        >>> lookup(np.array([["a", "c", "d"], ["d", "z", "b"]]))
        array([[1, 3, 4],
               [4, 0, 2]])
    """

    _layer = "StringLookup"

    def __init__(
        self,
        max_tokens=None,
        num_oov_indices=1,
        mask_token=None,
        oov_token="[UNK]",
        vocabulary=None,
        **kwargs,
    ):
        for name, token in (("mask_token", mask_token), ("oov_token", oov_token)):
            if token is not None and not isinstance(token, str):
                raise ValueError(f"StringLookup: {name} must be a string. Received: {token!r}")
        super().__init__(
            max_tokens=max_tokens,
            num_oov_indices=num_oov_indices,
            mask_token=mask_token,
            oov_token=oov_token,
            vocabulary=vocabulary,
            **kwargs,
        )

    def _token(self, value):
        if isinstance(value, bytes):
            return value.decode("utf-8")
        if isinstance(value, (str, np.str_)):
            return str(value)
        raise TypeError(f"StringLookup: expected strings, received {value!r}")

    def _token_array(self, tokens: list) -> np.ndarray:
        return np.array(tokens, dtype=object)

"""``IntegerLookup``: integer values to contiguous indices through a vocabulary (a
preprocessing step that runs in Python before the numeric graph)."""

from __future__ import annotations

import numpy as np

from ferrograd.layers.index_lookup import IndexLookup


class IntegerLookup(IndexLookup):
    """Maps integers to indices: index 0 is the mask token when ``mask_token`` is set, then the
    OOV index (``oov_token``, for any value outside the vocabulary), then the vocabulary,
    learned by ``adapt`` (most frequent first) or given.

    It runs in Python on numpy arrays before the numeric graph: call it on the data and feed
    the model its ids.

    Args:
        max_tokens: the largest vocabulary, special tokens included (default: no limit).
        num_oov_indices: 1 (default) or 0 (unknown values raise ValueError).
        mask_token: an integer mapped to index 0 (default None).
        oov_token: the OOV entry of the vocabulary (default -1).
        vocabulary: a list or array of integers.
        **kwargs: ``invert`` (map indices back to the tokens, default False),
            ``output_mode`` (``"int"``, the default, ``"one_hot"``, ``"multi_hot"`` or
            ``"count"``), ``pad_to_max_tokens`` (with the encodings, make their width
            ``max_tokens``; default False), and ``name`` as every layer.

    Examples:
        >>> lookup = layers.IntegerLookup(vocabulary=[12, 36, 1138, 42])
        >>> lookup(np.array([[12, 1138, 42], [42, 1000, 36]]))
        array([[1, 3, 4],
               [4, 0, 2]])
    """

    _layer = "IntegerLookup"

    def __init__(
        self,
        max_tokens=None,
        num_oov_indices=1,
        mask_token=None,
        oov_token=-1,
        vocabulary=None,
        **kwargs,
    ):
        for name, token in (("mask_token", mask_token), ("oov_token", oov_token)):
            if token is not None and (
                not isinstance(token, (int, np.integer)) or isinstance(token, bool)
            ):
                raise ValueError(f"IntegerLookup: {name} must be an integer. Received: {token!r}")
        super().__init__(
            max_tokens=max_tokens,
            num_oov_indices=num_oov_indices,
            mask_token=None if mask_token is None else int(mask_token),
            oov_token=None if oov_token is None else int(oov_token),
            vocabulary=vocabulary,
            **kwargs,
        )

    def _token(self, value):
        if isinstance(value, (float, np.floating)) and float(value).is_integer():
            return int(value)
        if isinstance(value, (int, np.integer)) and not isinstance(value, bool):
            return int(value)
        raise TypeError(f"IntegerLookup: expected integers, received {value!r}")

    def _token_array(self, tokens: list) -> np.ndarray:
        return np.array(tokens, dtype=np.int64)

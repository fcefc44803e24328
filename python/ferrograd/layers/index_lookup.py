"""``IndexLookup``: what ``StringLookup`` and ``IntegerLookup`` share (as in Keras): a
vocabulary learned by ``adapt`` or given, tokens mapped to indices (or back with ``invert``),
and the int / one-hot / multi-hot / count outputs.

The lookup runs in Python on numpy arrays, before the numeric graph: it is a preprocessing
step (apply it to the data, then feed the model the ids), not a layer inside a model.
"""

from __future__ import annotations

from collections import Counter

import numpy as np

from ferrograd._core import Tensor

_MODES = ("int", "one_hot", "multi_hot", "count")


class IndexLookup:
    """The shared lookup; see ``StringLookup`` and ``IntegerLookup`` for the arguments."""

    _layer = "IndexLookup"
    #: Sequential runs it on the data before the numeric graph (see ``Model._prepare``).
    _runs_before_graph = True

    def __init__(
        self,
        max_tokens=None,
        num_oov_indices=1,
        mask_token=None,
        oov_token=None,
        vocabulary=None,
        idf_weights=None,
        invert=False,
        output_mode="int",
        pad_to_max_tokens=False,
        sparse=False,
        name=None,
        **kwargs,
    ):
        layer = self._layer
        if kwargs:
            raise TypeError(f"{layer} got unexpected arguments: {sorted(kwargs)}")
        if max_tokens is not None and (
            not isinstance(max_tokens, int) or isinstance(max_tokens, bool) or max_tokens <= 1
        ):
            raise ValueError(
                f"{layer}: max_tokens must be None or an integer greater than 1. Received: "
                f"max_tokens={max_tokens!r}"
            )
        if num_oov_indices not in (0, 1):
            raise ValueError(
                f"{layer}: num_oov_indices must be 0 or 1 (several hashed OOV buckets are not "
                f"supported). Received: num_oov_indices={num_oov_indices!r}"
            )
        if output_mode not in _MODES:
            raise ValueError(
                f"{layer}: output_mode must be one of {_MODES} ('tf_idf' is not supported). "
                f"Received: output_mode={output_mode!r}"
            )
        if invert and output_mode != "int":
            raise ValueError(
                f"{layer}: invert=True needs output_mode='int'. Received: "
                f"output_mode={output_mode!r}"
            )
        if pad_to_max_tokens and max_tokens is None:
            raise ValueError(f"{layer}: pad_to_max_tokens=True needs max_tokens")
        if sparse:
            raise ValueError(f"{layer}: sparse=True is not supported (outputs are dense)")
        if idf_weights is not None:
            raise ValueError(f"{layer}: idf_weights (for 'tf_idf') is not supported")
        self.name = name or layer.lower()
        self.max_tokens = max_tokens
        self.num_oov_indices = num_oov_indices
        self.mask_token = mask_token
        self.oov_token = oov_token
        self.invert = bool(invert)
        self.output_mode = output_mode
        self.pad_to_max_tokens = bool(pad_to_max_tokens)
        self.sparse = False
        self._tokens: list = []
        self._index: dict = {}
        if vocabulary is not None:
            self.set_vocabulary(vocabulary)

    # --- what each kind defines -------------------------------------------------------------

    def _token(self, value):
        """One input value as a token (a str, or an int)."""
        raise NotImplementedError

    def _token_array(self, tokens: list) -> np.ndarray:
        """Tokens as the array ``invert`` returns."""
        raise NotImplementedError

    # --- the vocabulary ---------------------------------------------------------------------

    def _special(self) -> list:
        """The tokens before the vocabulary: the mask token (if any), then the OOV token."""
        return ([self.mask_token] if self.mask_token is not None else []) + [
            self.oov_token
        ] * self.num_oov_indices

    def adapt(self, data, steps=None) -> None:
        """Learns the vocabulary from ``data``: the most frequent tokens first.

        Ties are broken by the token in reverse order (as ``TextVectorization``); the mask and
        OOV tokens are left out, and the vocabulary is cut to ``max_tokens``.

        Args:
            data: an array, list, or iterable of batches of tokens.
            steps: Keras's; only None is accepted (default None).

        Examples:
            >>> lookup = layers.IntegerLookup()
            >>> lookup.adapt(np.array([7, 3, 7, 5, 7, 3]))
            >>> lookup.get_vocabulary()
            [-1, 7, 3, 5]
        """
        if steps is not None:
            raise ValueError(f"{self._layer}.adapt: steps is not supported")
        counts: Counter = Counter()
        for value in self._flat(data):
            counts[value] += 1
        for special in self._special():
            counts.pop(special, None)
        ranked = sorted(counts.items(), key=lambda item: (item[1], item[0]), reverse=True)
        if self.max_tokens is not None:
            ranked = ranked[: max(self.max_tokens - len(self._special()), 0)]
        self._set_tokens([token for token, _ in ranked])

    def set_vocabulary(self, vocabulary, idf_weights=None) -> None:
        """Uses ``vocabulary`` as the vocabulary, replacing any learned or given before.

        Args:
            vocabulary: a list, array or text file path of tokens, which may start with the
                mask and OOV tokens.
            idf_weights: Keras's; only None is accepted (default None).

        Examples:
            >>> lookup = layers.IntegerLookup()
            >>> lookup.set_vocabulary([10, 20, 30])
            >>> lookup(np.array([20, 99]))
            array([2, 0])
        """
        if idf_weights is not None:
            raise ValueError(f"{self._layer}: idf_weights is not supported")
        if isinstance(vocabulary, str) and not isinstance(self, _StringTokens):
            raise ValueError(f"{self._layer}: a vocabulary file is for StringLookup")
        if isinstance(vocabulary, str):
            with open(vocabulary, encoding="utf-8") as file:
                vocabulary = [line.rstrip("\n") for line in file]
        tokens = [self._token(t) for t in np.asarray(vocabulary, dtype=object).ravel()]
        special = self._special()
        if tokens[: len(special)] == special:
            tokens = tokens[len(special) :]
        repeated = sorted(str(t) for t, n in Counter(tokens).items() if n > 1)
        reserved = sorted(str(t) for t in set(tokens) & set(special))
        if repeated or reserved:
            raise ValueError(
                f"{self._layer}: the vocabulary must hold distinct tokens other than the mask and "
                f"OOV tokens. Received repeated {repeated} and reserved {reserved}"
            )
        if self.max_tokens is not None and len(tokens) + len(special) > self.max_tokens:
            raise ValueError(
                f"{self._layer}: the vocabulary has {len(tokens) + len(special)} entries with "
                f"the special tokens, more than max_tokens={self.max_tokens}"
            )
        self._set_tokens(tokens)

    def _set_tokens(self, tokens: list) -> None:
        self._tokens = list(tokens)
        first = len(self._special())
        self._index = {token: first + i for i, token in enumerate(self._tokens)}

    def get_vocabulary(self, include_special_tokens=True) -> list:
        """The tokens by index: the mask token (if any), the OOV token, then the vocabulary.

        Args:
            include_special_tokens: whether to list the mask and OOV tokens (default True).

        Returns:
            A list of tokens.

        Examples:
            >>> lookup = layers.IntegerLookup(vocabulary=[10, 20])
            >>> lookup.get_vocabulary()
            [-1, 10, 20]
            >>> lookup.get_vocabulary(include_special_tokens=False)
            [10, 20]
        """
        return (self._special() if include_special_tokens else []) + list(self._tokens)

    def vocabulary_size(self) -> int:
        """The number of indices, special tokens included."""
        return len(self._special()) + len(self._tokens)

    # --- lookups ----------------------------------------------------------------------------

    def _flat(self, data):
        if isinstance(data, Tensor):
            data = data.numpy()
        if isinstance(data, (np.ndarray, list, tuple)):
            array = np.asarray(data, dtype=object)
            return [self._token(v) for v in array.ravel()]
        return [self._token(v) for batch in data for v in np.asarray(batch, dtype=object).ravel()]

    def __call__(self, inputs) -> np.ndarray:
        """Looks ``inputs`` up: indices (int64) for ``"int"``, tokens with ``invert``, or
        float32 encodings for the other modes."""
        if isinstance(inputs, Tensor):
            inputs = inputs.numpy()
        array = np.asarray(inputs, dtype=object)
        if self.invert:
            vocabulary = self.get_vocabulary()
            out = []
            for value in array.ravel():
                index = int(value)
                if not 0 <= index < len(vocabulary):
                    raise ValueError(
                        f"{self._layer}(invert=True): index {index} is outside the vocabulary "
                        f"of {len(vocabulary)} entries"
                    )
                out.append(vocabulary[index])
            return self._token_array(out).reshape(array.shape)
        oov = len(self._special()) - 1 if self.num_oov_indices else None
        indices = np.empty(array.shape, dtype=np.int64)
        flat = indices.reshape(-1)
        for position, value in enumerate(array.ravel()):
            token = self._token(value)
            if self.mask_token is not None and token == self.mask_token:
                flat[position] = 0
                continue
            index = self._index.get(token, oov)
            if index is None:
                raise ValueError(
                    f"{self._layer}: {token!r} is not in the vocabulary and num_oov_indices=0"
                )
            flat[position] = index
        if self.output_mode == "int":
            return indices
        depth = self.max_tokens if self.pad_to_max_tokens else self.vocabulary_size()
        if self.output_mode == "one_hot":
            return np.eye(depth, dtype=np.float32)[indices]
        if indices.ndim == 1:
            indices = indices[None]
        out = np.zeros((*indices.shape[:-1], depth), dtype=np.float32)
        rows = out.reshape(-1, depth)
        for row, ids in zip(rows, indices.reshape(-1, indices.shape[-1]), strict=True):
            np.add.at(row, ids, 1.0)
        if self.output_mode == "multi_hot":
            np.minimum(out, 1.0, out=out)
        return out[0] if np.ndim(inputs) == 1 else out

    def get_config(self) -> dict:
        """Keras's config (the vocabulary included, so that ``from_config`` restores it)."""
        return {
            "name": self.name,
            "max_tokens": self.max_tokens,
            "num_oov_indices": self.num_oov_indices,
            "mask_token": self.mask_token,
            "oov_token": self.oov_token,
            "vocabulary": list(self._tokens) or None,
            "invert": self.invert,
            "output_mode": self.output_mode,
            "pad_to_max_tokens": self.pad_to_max_tokens,
        }

    @classmethod
    def from_config(cls, config: dict):
        """The lookup ``get_config`` described.

        Args:
            config: a dict as ``get_config`` returns it.

        Returns:
            A new lookup of this class.

        Examples:
            >>> lookup = layers.IntegerLookup(vocabulary=[10, 20])
            >>> layers.IntegerLookup.from_config(lookup.get_config()).get_vocabulary()
            [-1, 10, 20]
        """
        return cls(**config)

    def __repr__(self):
        return f"{type(self).__name__}(vocabulary_size={self.vocabulary_size()})"


class _StringTokens:
    """Marks the lookups whose tokens are strings (and can read vocabulary files)."""

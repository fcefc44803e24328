"""Text preprocessing for sequence models, as in Keras: ``pad_sequences`` brings token lists to
one length, and ``TextVectorization`` turns texts into token ids with a learned vocabulary.

Examples:
    >>> train_texts = ["a good film", "a bad film", "good, good acting"]
    >>> vectorizer = fg.preprocessing.TextVectorization(max_tokens=10000,
    ...                                                 output_sequence_length=6)
    >>> vectorizer.adapt(train_texts)
    >>> x_train = vectorizer(train_texts)          # int64 token ids, 0 = padding
    >>> x_train.shape
    (3, 6)
    >>> model = fg.Sequential([layers.Embedding(10000, 8, mask_zero=True), layers.LSTM(4)])
"""

from __future__ import annotations

import re
import string
from collections import Counter

import numpy as np

__all__ = ["TextVectorization", "pad_sequences"]


def pad_sequences(
    sequences, maxlen=None, dtype="int32", padding="pre", truncating="pre", value=0.0
):
    """Pads (or truncates) sequences to one length, giving an array of shape
    ``(len(sequences), maxlen)``.

    Args:
        sequences: a list of sequences (lists or arrays of integers; the items may themselves
            be arrays of one shape).
        maxlen: the length of the result (default: the longest sequence).
        dtype: of the result (default ``"int32"``; ``object`` for strings).
        padding: ``"pre"`` (default) or ``"post"``: where shorter sequences get ``value``.
        truncating: ``"pre"`` (default) or ``"post"``: where longer sequences lose items.
        value: the padding value (default 0).

    Returns:
        A numpy array of shape ``(len(sequences), maxlen, *item_shape)``.

    Examples:
        >>> pad_sequences([[1], [2, 3], [4, 5, 6]])
        array([[0, 0, 1],
               [0, 2, 3],
               [4, 5, 6]], dtype=int32)
        >>> pad_sequences([[1], [2, 3], [4, 5, 6]], maxlen=2, padding="post")
        array([[1, 0],
               [2, 3],
               [5, 6]], dtype=int32)
    """
    if not hasattr(sequences, "__len__"):
        raise ValueError(f"sequences must be a list of sequences. Received: {type(sequences)}")
    for name, where in (("padding", padding), ("truncating", truncating)):
        if where not in ("pre", "post"):
            raise ValueError(f"{name} must be 'pre' or 'post'. Received: {name}={where!r}")
    lengths = []
    item_shape: tuple = ()
    item_shape_known = False
    for index, sequence in enumerate(sequences):
        try:
            lengths.append(len(sequence))
        except TypeError:
            raise ValueError(
                f"sequences must be a list of sequences; the item at position {index} is "
                f"{sequence!r}"
            ) from None
        if not item_shape_known and len(sequence):
            item_shape = np.asarray(sequence).shape[1:]
            item_shape_known = True
    if maxlen is None:
        maxlen = max(lengths, default=0)
    if isinstance(maxlen, bool) or not isinstance(maxlen, (int, np.integer)) or maxlen < 0:
        raise ValueError(f"maxlen must be a non-negative integer. Received: maxlen={maxlen!r}")
    holds_strings = np.issubdtype(np.dtype(dtype), np.str_) or np.issubdtype(
        np.dtype(dtype), np.bytes_
    )
    if isinstance(value, str) and dtype is not object and not holds_strings:
        raise ValueError(
            f"dtype {dtype} cannot hold the padding value {value!r}; use dtype=object for "
            "sequences of strings"
        )
    result = np.full((len(lengths), int(maxlen), *item_shape), value, dtype=dtype)
    for index, sequence in enumerate(sequences):
        kept = min(len(sequence), int(maxlen))
        if kept == 0:
            continue
        part = sequence[len(sequence) - kept :] if truncating == "pre" else sequence[:kept]
        part = np.asarray(part, dtype=dtype)
        if part.shape[1:] != item_shape:
            raise ValueError(
                f"the items of the sequence at position {index} have shape {part.shape[1:]}, "
                f"unlike the first sequence's {item_shape}"
            )
        if padding == "post":
            result[index, :kept] = part
        else:
            result[index, int(maxlen) - kept :] = part
    return result


_PUNCTUATION = re.compile(f"[{re.escape(string.punctuation)}]")
_STANDARDIZERS = ("lower_and_strip_punctuation", "lower", "strip_punctuation")


class TextVectorization:
    """Turns texts into sequences of token ids: standardize, split into tokens, look each token
    up in a vocabulary learned by ``adapt``.

    Id 0 is padding and id 1 is ``"[UNK]"`` (any token outside the vocabulary); the learned
    tokens follow from the most frequent, ties broken as Keras does (by the token, in reverse
    order), so the vocabulary is the same on every run.

    Args:
        max_tokens: the largest vocabulary, padding and ``"[UNK]"`` included (default: no
            limit).
        standardize: ``"lower_and_strip_punctuation"`` (default), ``"lower"``,
            ``"strip_punctuation"``, None, or a function of one string.
        split: ``"whitespace"`` (default), ``"character"``, None (the whole text is one token),
            or a function from a string to a list of tokens.
        output_mode: ``"int"`` (the only mode supported).
        output_sequence_length: pad with 0 or cut at the end to this length (default: pad
            each call's texts to its longest).
        vocabulary: a list of tokens to use instead of ``adapt``.

    It is also ``fg.layers.TextVectorization``, and may start a ``Sequential`` model that is
    then fit and asked to predict on arrays of strings: its string step runs in Python on the
    data before the numeric graph (it is not part of the graph, nor of saved model files).

    Examples:
        >>> vectorizer = TextVectorization(output_sequence_length=4)
        >>> vectorizer.adapt(["the cat sat", "the dog"])
        >>> vectorizer.get_vocabulary()
        ['', '[UNK]', 'the', 'sat', 'dog', 'cat']
        >>> vectorizer(["The bird sat."])
        array([[2, 1, 3, 0]])
    """

    #: As a model's first layer, its string step runs on the data before the numeric graph.
    _runs_before_graph = True

    def __init__(
        self,
        max_tokens=None,
        standardize="lower_and_strip_punctuation",
        split="whitespace",
        output_mode="int",
        output_sequence_length=None,
        vocabulary=None,
    ):
        if max_tokens is not None and (
            isinstance(max_tokens, bool) or not isinstance(max_tokens, int) or max_tokens < 3
        ):
            raise ValueError(
                "max_tokens must be None or an integer of at least 3 (padding, '[UNK]' and one "
                f"token). Received: max_tokens={max_tokens!r}"
            )
        if not (standardize is None or callable(standardize) or standardize in _STANDARDIZERS):
            raise ValueError(
                f"standardize must be one of {_STANDARDIZERS}, None or a function. Received: "
                f"standardize={standardize!r}"
            )
        if not (split is None or callable(split) or split in ("whitespace", "character")):
            raise ValueError(
                "split must be 'whitespace', 'character', None or a function. Received: "
                f"split={split!r}"
            )
        if output_mode != "int":
            raise ValueError(
                f"only output_mode='int' is supported. Received: output_mode={output_mode!r}"
            )
        if output_sequence_length is not None and (
            isinstance(output_sequence_length, bool)
            or not isinstance(output_sequence_length, int)
            or output_sequence_length < 0
        ):
            raise ValueError(
                "output_sequence_length must be None or a non-negative integer. Received: "
                f"output_sequence_length={output_sequence_length!r}"
            )
        self.max_tokens = max_tokens
        self.standardize = standardize
        self.split = split
        self.output_mode = output_mode
        self.output_sequence_length = output_sequence_length
        self._vocabulary = ["", "[UNK]"]
        self._index: dict[str, int] = {}
        if vocabulary is not None:
            self.set_vocabulary(vocabulary)

    # --- the vocabulary ------------------------------------------------------------------

    def adapt(self, data) -> None:
        """Learns the vocabulary from ``data``, a list (or array) of strings, replacing any
        earlier one.

        Tokens are ranked by frequency (ties by the token, in reverse order, as in Keras) and
        cut to ``max_tokens`` with padding and ``"[UNK]"`` counted.

        Args:
            data: the texts: a list, tuple or array of strings or bytes, of shape ``(n,)`` or
                ``(n, 1)``.

        Raises:
            ValueError: ``data`` of another shape.

        Examples:
            >>> vectorizer = fg.preprocessing.TextVectorization()
            >>> vectorizer.adapt(["the cat sat", "the dog"])
            >>> vectorizer.get_vocabulary()
            ['', '[UNK]', 'the', 'sat', 'dog', 'cat']
        """
        counts: Counter = Counter()
        for text in _texts(data):
            counts.update(self._tokens(text))
        for special in ("", "[UNK]"):
            counts.pop(special, None)
        ranked = sorted(counts.items(), key=lambda item: (item[1], item[0]), reverse=True)
        if self.max_tokens is not None:
            ranked = ranked[: self.max_tokens - 2]
        self._set_tokens([token for token, _ in ranked])

    def set_vocabulary(self, vocabulary) -> None:
        """Uses ``vocabulary`` (tokens, most frequent first; a leading ``""`` and ``"[UNK]"``
        are allowed and skipped).

        Args:
            vocabulary: the tokens, in the order of their ids (from 2).

        Raises:
            ValueError: repeated tokens, ``""`` or ``"[UNK]"`` elsewhere than at the start, or
                more tokens than ``max_tokens`` allows.

        Examples:
            >>> vectorizer = fg.preprocessing.TextVectorization()
            >>> vectorizer.set_vocabulary(["cat", "dog"])
            >>> vectorizer(["dog cat bird"])
            array([[3, 2, 1]])
        """
        tokens = [str(t) for t in vocabulary]
        if tokens[:2] == ["", "[UNK]"]:
            tokens = tokens[2:]
        bad = {t for t, n in Counter(tokens).items() if n > 1} | ({"", "[UNK]"} & set(tokens))
        if bad:
            raise ValueError(
                "the vocabulary must hold distinct tokens other than '' and '[UNK]'. Received "
                f"repeated or reserved tokens: {sorted(bad)}"
            )
        if self.max_tokens is not None and len(tokens) + 2 > self.max_tokens:
            raise ValueError(
                f"the vocabulary has {len(tokens) + 2} entries with padding and '[UNK]', more "
                f"than max_tokens={self.max_tokens}"
            )
        self._set_tokens(tokens)

    def _set_tokens(self, tokens: list) -> None:
        self._vocabulary = ["", "[UNK]", *tokens]
        self._index = {token: i + 2 for i, token in enumerate(tokens)}

    def get_vocabulary(self, include_special_tokens=True) -> list:
        """The tokens by id: ``""`` (padding), ``"[UNK]"``, then the learned tokens.

        Args:
            include_special_tokens: include ``""`` and ``"[UNK]"`` (default True).

        Returns:
            A list of strings.

        Examples:
            >>> vectorizer = fg.preprocessing.TextVectorization(vocabulary=["cat", "dog"])
            >>> vectorizer.get_vocabulary(include_special_tokens=False)
            ['cat', 'dog']
        """
        return list(self._vocabulary if include_special_tokens else self._vocabulary[2:])

    def vocabulary_size(self) -> int:
        """The number of ids, padding and ``"[UNK]"`` included (``input_dim`` for an
        ``Embedding``).

        Returns:
            An int.

        Examples:
            >>> fg.preprocessing.TextVectorization(vocabulary=["cat", "dog"]).vocabulary_size()
            4
        """
        return len(self._vocabulary)

    # --- vectorizing ---------------------------------------------------------------------

    def __call__(self, texts) -> np.ndarray:
        """The ids of ``texts`` (a list or array of strings) as an int64 array of shape
        ``(len(texts), length)``; a single string gives a 1-D array."""
        if isinstance(texts, (str, bytes)):
            return self([texts])[0]
        sequences = [
            [self._index.get(token, 1) for token in self._tokens(text)] for text in _texts(texts)
        ]
        length = self.output_sequence_length
        if length is None:
            length = max((len(s) for s in sequences), default=0)
        out = np.zeros((len(sequences), length), dtype=np.int64)
        for row, ids in enumerate(sequences):
            ids = ids[:length]
            out[row, : len(ids)] = ids
        return out

    def _tokens(self, text: str) -> list:
        if callable(self.standardize):
            text = self.standardize(text)
        elif self.standardize is not None:
            if "lower" in self.standardize:
                text = text.lower()
            if "strip_punctuation" in self.standardize:
                text = _PUNCTUATION.sub("", text)
        if callable(self.split):
            return list(self.split(text))
        if self.split == "whitespace":
            return text.split()
        if self.split == "character":
            return list(text)
        return [text]

    def get_config(self) -> dict:
        """The constructor's arguments, without the vocabulary (a function given as
        ``standardize`` or ``split`` is reported as None).

        Returns:
            A dict.

        Examples:
            >>> fg.preprocessing.TextVectorization(max_tokens=100).get_config()["max_tokens"]
            100
        """
        return {
            "max_tokens": self.max_tokens,
            "standardize": self.standardize if isinstance(self.standardize, str) else None,
            "split": self.split if isinstance(self.split, str) else None,
            "output_mode": self.output_mode,
            "output_sequence_length": self.output_sequence_length,
        }

    def __repr__(self):
        return (
            f"TextVectorization(vocabulary_size={self.vocabulary_size()}, "
            f"output_sequence_length={self.output_sequence_length})"
        )


def _texts(data) -> list:
    """``data`` as a list of str: a list, tuple or array of strings or bytes, of shape (n,) or
    (n, 1)."""
    if isinstance(data, (str, bytes)):
        data = [data]
    array = np.asarray(data, dtype=object)
    if array.ndim == 2 and array.shape[1] == 1:
        array = array[:, 0]
    if array.ndim != 1:
        raise ValueError(
            f"expected a list of texts (shape (n,) or (n, 1)), received shape {array.shape}"
        )
    texts = []
    for item in array:
        if isinstance(item, bytes):
            item = item.decode("utf-8")
        if not isinstance(item, str):
            raise TypeError(f"expected texts (str or bytes), received {item!r}")
        texts.append(item)
    return texts

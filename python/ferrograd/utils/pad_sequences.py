"""`pad_sequences`: sequences of different lengths as one padded array."""

from __future__ import annotations

import numpy as np

_PLACES = ("pre", "post")


def pad_sequences(
    sequences,
    maxlen: int | None = None,
    dtype="int32",
    padding: str = "pre",
    truncating: str = "pre",
    value=0.0,
):
    """Pads (and truncates) sequences to one length, as ``keras.utils.pad_sequences`` does.

    Args:
        sequences: a list of sequences (lists or arrays; each element a number or an array of
            one shape, the same for all).
        maxlen: the length of the result (default: the longest sequence).
        dtype: the result's dtype (default ``"int32"``; a string dtype for text).
        padding: ``"pre"`` (default) pads at the start, ``"post"`` at the end.
        truncating: ``"pre"`` (default) drops values at the start of longer sequences,
            ``"post"`` at the end.
        value: the padding value (default 0).

    Returns:
        A numpy array of shape ``(len(sequences), maxlen, *element_shape)``.

    Raises:
        ValueError: an unknown ``padding`` or ``truncating``, a negative ``maxlen``, elements
            of different shapes, or a string padding value for a numeric dtype.

    Examples:
        >>> import ferrograd as fg
        >>> fg.utils.pad_sequences([[1, 2, 3], [4, 5], [6]], maxlen=2)
        array([[2, 3],
               [4, 5],
               [0, 6]], dtype=int32)
        >>> fg.utils.pad_sequences([[1], [2, 3]], padding="post")
        array([[1, 0],
               [2, 3]], dtype=int32)
    """
    if padding not in _PLACES:
        raise ValueError(f'padding must be "pre" or "post", received padding={padding!r}')
    if truncating not in _PLACES:
        raise ValueError(f'truncating must be "pre" or "post", received truncating={truncating!r}')
    if not hasattr(sequences, "__len__"):
        raise ValueError(f"sequences must be a list of sequences, received {sequences!r}")
    lengths, element_shape = [], None
    for index, sequence in enumerate(sequences):
        if not hasattr(sequence, "__len__"):
            raise ValueError(
                f"sequences[{index}] must be a sequence (a list or an array), received {sequence!r}"
            )
        lengths.append(len(sequence))
        if element_shape is None and len(sequence):
            element_shape = np.asarray(sequence).shape[1:]
    if maxlen is None:
        maxlen = max(lengths, default=0)
    elif isinstance(maxlen, bool) or not isinstance(maxlen, (int, np.integer)) or maxlen < 0:
        raise ValueError(f"maxlen must be a non-negative integer or None, received {maxlen!r}")
    numeric = np.issubdtype(np.dtype(dtype), np.number)
    if isinstance(value, str) and numeric:
        raise ValueError(
            f"dtype {dtype!r} is numeric but the padding value is the string {value!r}; pass "
            "dtype=object or a string dtype for text"
        )
    result = np.full((len(lengths), int(maxlen), *(element_shape or ())), value, dtype=dtype)
    for index, sequence in enumerate(sequences):
        if not len(sequence) or not maxlen:
            continue
        kept = np.asarray(sequence)
        kept = kept[-maxlen:] if truncating == "pre" else kept[:maxlen]
        if kept.shape[1:] != (element_shape or ()):
            raise ValueError(
                f"every element must have the shape {element_shape}; sequences[{index}] has "
                f"elements of shape {kept.shape[1:]}"
            )
        if padding == "post":
            result[index, : len(kept)] = kept
        else:
            result[index, -len(kept) :] = kept
    return result

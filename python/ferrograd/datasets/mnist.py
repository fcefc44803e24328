"""MNIST: 70,000 grey-scale images of handwritten digits, 28x28 pixels, in 10 classes."""

from __future__ import annotations

import os

import numpy as np

from ferrograd.datasets import _files


def load_data(
    path: str | os.PathLike[str] | None = None,
) -> tuple[tuple[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]]:
    """Loads the MNIST dataset of handwritten digits, like ``keras.datasets.mnist.load_data``.

    The four IDX files (``train-images-idx3-ubyte.gz``, ``train-labels-idx1-ubyte.gz``,
    ``t10k-images-idx3-ubyte.gz``, ``t10k-labels-idx1-ubyte.gz``, gzipped or not) are looked
    for in ``path``, then in ``$FERROGRAD_DATA/mnist/``, then in the cache
    (``$FERROGRAD_CACHE/datasets/mnist/``, by default ``~/.cache/ferrograd/datasets/mnist/``),
    and else downloaded into the cache from the public mirrors, or from the base URLs in
    ``FERROGRAD_MIRRORS`` (separated by commas). Each file is checked against the SHA-256 of
    its original content; a file that fails is never used.

    Args:
        path: a folder that holds the four files (default: ``None``, look only in the places
            above).

    Returns:
        ``(x_train, y_train), (x_test, y_test)``: uint8 numpy arrays of shapes
        ``(60000, 28, 28)``, ``(60000,)``, ``(10000, 28, 28)`` and ``(10000,)``; pixels are
        0 (background) to 255, labels the digits 0 to 9.

    Raises:
        ferrograd.errors.FileFormatError: a file is truncated, corrupt or not the expected
            one; the message names it and says what to do.
        FileNotFoundError: a file is nowhere and cannot be downloaded; the message says
            where to put it.

    Examples:

    >>> import ferrograd as fg
    >>> (x_train, y_train), (x_test, y_test) = fg.datasets.mnist.load_data()
    >>> x_train.shape, x_train.dtype, y_train[:5]
    ((60000, 28, 28), dtype('uint8'), array([5, 0, 4, 1, 9], dtype=uint8))
    """
    return _files.load(_files.MNIST, path)

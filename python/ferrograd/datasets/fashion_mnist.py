"""Fashion-MNIST: 70,000 grey-scale 28x28 images of clothing in 10 classes, by Zalando Research.

The classes: 0 T-shirt/top, 1 Trouser, 2 Pullover, 3 Dress, 4 Coat, 5 Sandal, 6 Shirt,
7 Sneaker, 8 Bag, 9 Ankle boot.
"""

from __future__ import annotations

import os

import numpy as np

from ferrograd.datasets import _files


def load_data(
    path: str | os.PathLike[str] | None = None,
) -> tuple[tuple[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]]:
    """Loads the Fashion-MNIST dataset, like ``keras.datasets.fashion_mnist.load_data``.

    The four IDX files (``train-images-idx3-ubyte.gz``, ``train-labels-idx1-ubyte.gz``,
    ``t10k-images-idx3-ubyte.gz``, ``t10k-labels-idx1-ubyte.gz``, gzipped or not) are looked
    for in ``path``, then in ``$FERROGRAD_DATA/fashion-mnist/``, then in the cache
    (``$FERROGRAD_CACHE/datasets/fashion-mnist/``, by default
    ``~/.cache/ferrograd/datasets/fashion-mnist/``), and else downloaded into the cache from
    the public mirror, or from the base URLs in ``FERROGRAD_MIRRORS`` (separated by commas).
    Each file is checked against the SHA-256 of its original content; a file that fails is
    never used.

    Args:
        path: a folder that holds the four files (default: ``None``, look only in the places
            above).

    Returns:
        ``(x_train, y_train), (x_test, y_test)``: uint8 numpy arrays of shapes
        ``(60000, 28, 28)``, ``(60000,)``, ``(10000, 28, 28)`` and ``(10000,)``; pixels are
        0 to 255, labels the classes 0 to 9 listed in this module's docstring.

    Raises:
        ferrograd.errors.FileFormatError: a file is truncated, corrupt or not the expected
            one; the message names it and says what to do.
        FileNotFoundError: a file is nowhere and cannot be downloaded; the message says
            where to put it.

    Examples:

    >>> import ferrograd as fg
    >>> (x_train, y_train), (x_test, y_test) = fg.datasets.fashion_mnist.load_data()
    >>> x_test.shape, y_test[:5]
    ((10000, 28, 28), array([9, 2, 1, 1, 6], dtype=uint8))
    """
    return _files.load(_files.FASHION_MNIST, path)

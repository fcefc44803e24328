"""Datasets: MNIST and Fashion-MNIST, read from their IDX files.

``load_data()`` returns numpy arrays, like Keras. The files are looked for, gzipped or not, in
the folder given as ``load_data(path=...)``, then in ``$FERROGRAD_DATA/mnist/`` (or
``fashion-mnist/``), then in the cache (``$FERROGRAD_CACHE``, else
``$XDG_CACHE_HOME/ferrograd`` or ``~/.cache/ferrograd``, then ``datasets/<name>/``); else they
are downloaded into the cache from the public mirrors, or from the base URLs in
``FERROGRAD_MIRRORS`` (separated by commas, tried in order). Every file is checked against the
SHA-256 of its original content before it is used.

Examples:

>>> import ferrograd as fg
>>> (x_train, y_train), (x_test, y_test) = fg.datasets.mnist.load_data()
>>> x_train.shape, y_train.shape
((60000, 28, 28), (60000,))
"""

from ferrograd.datasets import fashion_mnist, mnist

__all__ = ["fashion_mnist", "mnist"]

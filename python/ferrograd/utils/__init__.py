"""Utilities with Keras 3's names: labels, sequences, datasets and seeds."""

from ferrograd.utils.normalize import normalize
from ferrograd.utils.pad_sequences import pad_sequences
from ferrograd.utils.py_dataset import PyDataset, Sequence
from ferrograd.utils.set_random_seed import set_random_seed
from ferrograd.utils.split_dataset import split_dataset
from ferrograd.utils.to_categorical import to_categorical

__all__ = [
    "PyDataset",
    "Sequence",
    "normalize",
    "pad_sequences",
    "set_random_seed",
    "split_dataset",
    "to_categorical",
]

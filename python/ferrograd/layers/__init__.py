"""Layers, with Keras's names, arguments and defaults."""

from ferrograd.layers.base import Input, InputLayer, KerasTensor, Layer
from ferrograd.layers.core import Activation, BatchNormalization, Dense, Dropout, Flatten

__all__ = [
    "Activation",
    "BatchNormalization",
    "Dense",
    "Dropout",
    "Flatten",
    "Input",
    "InputLayer",
    "KerasTensor",
    "Layer",
]

"""Layers, with Keras's names, arguments and defaults."""

from ferrograd.layers.base import Input, InputLayer, KerasTensor, Layer
from ferrograd.layers.core import Activation, BatchNormalization, Dense, Dropout, Flatten
from ferrograd.layers.embedding import Embedding
from ferrograd.layers.pooling import GlobalAveragePooling1D, GlobalAvgPool1D
from ferrograd.layers.recurrent import GRU, LSTM, Bidirectional, SimpleRNN

__all__ = [
    "GRU",
    "LSTM",
    "Activation",
    "BatchNormalization",
    "Bidirectional",
    "Dense",
    "Dropout",
    "Embedding",
    "Flatten",
    "GlobalAveragePooling1D",
    "GlobalAvgPool1D",
    "Input",
    "InputLayer",
    "KerasTensor",
    "Layer",
    "SimpleRNN",
]

"""Layers, with Keras's names, arguments and defaults.

One file per layer, named after its Keras class in snake_case (``dense.py`` holds ``Dense``).
Every class that sets its own ``kind`` registers itself (``ferrograd.layers.registry``), so a
new layer is its file and one import line here.
"""

from ferrograd.layers.activation import Activation
from ferrograd.layers.average_pooling1d import AveragePooling1D, AvgPool1D
from ferrograd.layers.average_pooling2d import AveragePooling2D, AvgPool2D
from ferrograd.layers.batch_normalization import BatchNormalization
from ferrograd.layers.bidirectional import Bidirectional
from ferrograd.layers.conv1d import Conv1D, Convolution1D
from ferrograd.layers.conv2d import Conv2D, Convolution2D
from ferrograd.layers.dense import Dense
from ferrograd.layers.dropout import Dropout
from ferrograd.layers.embedding import Embedding
from ferrograd.layers.flatten import Flatten
from ferrograd.layers.global_average_pooling1d import GlobalAveragePooling1D, GlobalAvgPool1D
from ferrograd.layers.global_average_pooling2d import GlobalAveragePooling2D, GlobalAvgPool2D
from ferrograd.layers.global_max_pooling1d import GlobalMaxPool1D, GlobalMaxPooling1D
from ferrograd.layers.global_max_pooling2d import GlobalMaxPool2D, GlobalMaxPooling2D
from ferrograd.layers.gru import GRU
from ferrograd.layers.input_layer import Input, InputLayer
from ferrograd.layers.keras_tensor import KerasTensor
from ferrograd.layers.layer import Layer
from ferrograd.layers.lstm import LSTM
from ferrograd.layers.max_pooling1d import MaxPool1D, MaxPooling1D
from ferrograd.layers.max_pooling2d import MaxPool2D, MaxPooling2D
from ferrograd.layers.simple_rnn import SimpleRNN
from ferrograd.layers.up_sampling1d import UpSampling1D
from ferrograd.layers.up_sampling2d import UpSampling2D

__all__ = [
    "GRU",
    "LSTM",
    "Activation",
    "AveragePooling2D",
    "AvgPool2D",
    "BatchNormalization",
    "Bidirectional",
    "Conv2D",
    "Convolution2D",
    "Dense",
    "Dropout",
    "Embedding",
    "Flatten",
    "GlobalAveragePooling1D",
    "GlobalAvgPool1D",
    "Input",
    "InputLayer",
    "KerasTensor",
    "AveragePooling1D",
    "AvgPool1D",
    "Conv1D",
    "Convolution1D",
    "GlobalAveragePooling2D",
    "GlobalAvgPool2D",
    "GlobalMaxPool1D",
    "GlobalMaxPooling1D",
    "GlobalMaxPool2D",
    "GlobalMaxPooling2D",
    "MaxPool1D",
    "MaxPooling1D",
    "Layer",
    "MaxPool2D",
    "MaxPooling2D",
    "SimpleRNN",
    "UpSampling1D",
    "UpSampling2D",
]

"""Layers, with Keras's names, arguments and defaults.

One file per layer, named after its Keras class in snake_case (``dense.py`` holds ``Dense``).
Every class that sets its own ``kind`` registers itself (``ferrograd.layers.registry``), so a
new layer is its file and one import line here.
"""

from ferrograd.layers.activation import Activation
from ferrograd.layers.add import Add, add
from ferrograd.layers.average import Average, average
from ferrograd.layers.batch_normalization import BatchNormalization
from ferrograd.layers.bidirectional import Bidirectional
from ferrograd.layers.concatenate import Concatenate, concatenate
from ferrograd.layers.dense import Dense
from ferrograd.layers.dot import Dot, dot
from ferrograd.layers.dropout import Dropout
from ferrograd.layers.elu import ELU
from ferrograd.layers.embedding import Embedding
from ferrograd.layers.flatten import Flatten
from ferrograd.layers.global_average_pooling1d import GlobalAveragePooling1D, GlobalAvgPool1D
from ferrograd.layers.gru import GRU
from ferrograd.layers.identity import Identity
from ferrograd.layers.input_layer import Input, InputLayer
from ferrograd.layers.keras_tensor import KerasTensor
from ferrograd.layers.layer import Layer
from ferrograd.layers.layer_normalization import LayerNormalization
from ferrograd.layers.leaky_relu import LeakyReLU
from ferrograd.layers.lstm import LSTM
from ferrograd.layers.maximum import Maximum, maximum
from ferrograd.layers.minimum import Minimum, minimum
from ferrograd.layers.multiply import Multiply, multiply
from ferrograd.layers.simple_rnn import SimpleRNN
from ferrograd.layers.subtract import Subtract, subtract

__all__ = [
    "Add",
    "add",
    "Average",
    "average",
    "Concatenate",
    "concatenate",
    "Dot",
    "dot",
    "Maximum",
    "maximum",
    "Minimum",
    "minimum",
    "Multiply",
    "multiply",
    "Subtract",
    "subtract",
from ferrograd.layers.permute import Permute
from ferrograd.layers.prelu import PReLU
from ferrograd.layers.relu import ReLU
from ferrograd.layers.repeat_vector import RepeatVector
from ferrograd.layers.reshape import Reshape
from ferrograd.layers.softmax import Softmax

    "ELU",
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
    "Identity",
    "Input",
    "InputLayer",
    "KerasTensor",
    "Layer",
    "LayerNormalization",
    "LeakyReLU",
    "PReLU",
    "Permute",
    "ReLU",
    "RepeatVector",
    "Reshape",
    "SimpleRNN",
    "Softmax",
]

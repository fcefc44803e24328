"""Layers, with Keras's names, arguments and defaults.

One file per layer, named after its Keras class in snake_case (``dense.py`` holds ``Dense``).
Every class that sets its own ``kind`` registers itself (``ferrograd.layers.registry``), so a
new layer is its file and one import line here.
"""

from ferrograd.layers.activation import Activation
from ferrograd.layers.activity_regularization import ActivityRegularization
from ferrograd.layers.add import Add, add
from ferrograd.layers.additive_attention import AdditiveAttention
from ferrograd.layers.attention import Attention
from ferrograd.layers.average import Average, average
from ferrograd.layers.average_pooling1d import AveragePooling1D, AvgPool1D
from ferrograd.layers.average_pooling2d import AveragePooling2D, AvgPool2D
from ferrograd.layers.batch_normalization import BatchNormalization
from ferrograd.layers.bidirectional import Bidirectional
from ferrograd.layers.category_encoding import CategoryEncoding
from ferrograd.layers.center_crop import CenterCrop
from ferrograd.layers.concatenate import Concatenate, concatenate
from ferrograd.layers.conv1d import Conv1D, Convolution1D
from ferrograd.layers.conv1d_transpose import Conv1DTranspose, Convolution1DTranspose
from ferrograd.layers.conv2d import Conv2D, Convolution2D
from ferrograd.layers.conv2d_transpose import Conv2DTranspose, Convolution2DTranspose
from ferrograd.layers.cropping1d import Cropping1D
from ferrograd.layers.cropping2d import Cropping2D
from ferrograd.layers.dense import Dense
from ferrograd.layers.depthwise_conv2d import DepthwiseConv2D
from ferrograd.layers.dot import Dot, dot
from ferrograd.layers.dropout import Dropout
from ferrograd.layers.elu import ELU
from ferrograd.layers.embedding import Embedding
from ferrograd.layers.flatten import Flatten
from ferrograd.layers.gaussian_dropout import GaussianDropout
from ferrograd.layers.gaussian_noise import GaussianNoise
from ferrograd.layers.global_average_pooling1d import GlobalAveragePooling1D, GlobalAvgPool1D
from ferrograd.layers.global_average_pooling2d import GlobalAveragePooling2D, GlobalAvgPool2D
from ferrograd.layers.global_max_pooling1d import GlobalMaxPool1D, GlobalMaxPooling1D
from ferrograd.layers.global_max_pooling2d import GlobalMaxPool2D, GlobalMaxPooling2D
from ferrograd.layers.gru import GRU
from ferrograd.layers.identity import Identity
from ferrograd.layers.input_layer import Input, InputLayer
from ferrograd.layers.integer_lookup import IntegerLookup
from ferrograd.layers.keras_tensor import KerasTensor
from ferrograd.layers.lambda_layer import Lambda
from ferrograd.layers.layer import Layer
from ferrograd.layers.layer_normalization import LayerNormalization
from ferrograd.layers.leaky_relu import LeakyReLU
from ferrograd.layers.lstm import LSTM
from ferrograd.layers.masking import Masking
from ferrograd.layers.max_pooling1d import MaxPool1D, MaxPooling1D
from ferrograd.layers.max_pooling2d import MaxPool2D, MaxPooling2D
from ferrograd.layers.maximum import Maximum, maximum
from ferrograd.layers.minimum import Minimum, minimum
from ferrograd.layers.multi_head_attention import MultiHeadAttention
from ferrograd.layers.multiply import Multiply, multiply
from ferrograd.layers.normalization import Normalization
from ferrograd.layers.permute import Permute
from ferrograd.layers.prelu import PReLU
from ferrograd.layers.random_contrast import RandomContrast
from ferrograd.layers.random_crop import RandomCrop
from ferrograd.layers.random_flip import RandomFlip
from ferrograd.layers.random_rotation import RandomRotation
from ferrograd.layers.random_translation import RandomTranslation
from ferrograd.layers.random_zoom import RandomZoom
from ferrograd.layers.relu import ReLU
from ferrograd.layers.repeat_vector import RepeatVector
from ferrograd.layers.rescaling import Rescaling
from ferrograd.layers.reshape import Reshape
from ferrograd.layers.resizing import Resizing
from ferrograd.layers.separable_conv2d import SeparableConv2D, SeparableConvolution2D
from ferrograd.layers.simple_rnn import SimpleRNN
from ferrograd.layers.softmax import Softmax
from ferrograd.layers.spatial_dropout1d import SpatialDropout1D
from ferrograd.layers.spatial_dropout2d import SpatialDropout2D
from ferrograd.layers.string_lookup import StringLookup
from ferrograd.layers.subtract import Subtract, subtract
from ferrograd.layers.time_distributed import TimeDistributed
from ferrograd.layers.up_sampling1d import UpSampling1D
from ferrograd.layers.up_sampling2d import UpSampling2D
from ferrograd.layers.zero_padding1d import ZeroPadding1D
from ferrograd.layers.zero_padding2d import ZeroPadding2D
from ferrograd.preprocessing import TextVectorization

__all__ = [
    "Activation",
    "ActivityRegularization",
    "Add",
    "AdditiveAttention",
    "Attention",
    "Average",
    "AveragePooling1D",
    "AveragePooling2D",
    "AvgPool1D",
    "AvgPool2D",
    "BatchNormalization",
    "Bidirectional",
    "CategoryEncoding",
    "CenterCrop",
    "Concatenate",
    "Conv1D",
    "Conv1DTranspose",
    "Conv2D",
    "Conv2DTranspose",
    "Convolution1D",
    "Convolution1DTranspose",
    "Convolution2D",
    "Convolution2DTranspose",
    "Cropping1D",
    "Cropping2D",
    "Dense",
    "DepthwiseConv2D",
    "Dot",
    "Dropout",
    "ELU",
    "Embedding",
    "Flatten",
    "GRU",
    "GaussianDropout",
    "GaussianNoise",
    "GlobalAveragePooling1D",
    "GlobalAveragePooling2D",
    "GlobalAvgPool1D",
    "GlobalAvgPool2D",
    "GlobalMaxPool1D",
    "GlobalMaxPool2D",
    "GlobalMaxPooling1D",
    "GlobalMaxPooling2D",
    "Identity",
    "Input",
    "InputLayer",
    "IntegerLookup",
    "KerasTensor",
    "LSTM",
    "Lambda",
    "Layer",
    "LayerNormalization",
    "LeakyReLU",
    "Masking",
    "MaxPool1D",
    "MaxPool2D",
    "MaxPooling1D",
    "MaxPooling2D",
    "Maximum",
    "Minimum",
    "MultiHeadAttention",
    "Multiply",
    "Normalization",
    "PReLU",
    "Permute",
    "ReLU",
    "RandomContrast",
    "RandomCrop",
    "RandomFlip",
    "RandomRotation",
    "RandomTranslation",
    "RandomZoom",
    "RepeatVector",
    "Rescaling",
    "Reshape",
    "Resizing",
    "SeparableConv2D",
    "SeparableConvolution2D",
    "SimpleRNN",
    "Softmax",
    "SpatialDropout1D",
    "SpatialDropout2D",
    "StringLookup",
    "Subtract",
    "TextVectorization",
    "TimeDistributed",
    "UpSampling1D",
    "UpSampling2D",
    "ZeroPadding1D",
    "ZeroPadding2D",
    "add",
    "average",
    "concatenate",
    "dot",
    "maximum",
    "minimum",
    "multiply",
    "subtract",
]

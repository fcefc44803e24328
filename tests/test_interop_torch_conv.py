"""Convnet weights to and from PyTorch state dicts: the same network built in both (channels
first, as PyTorch computes), predictions compared both ways, and the layouts checked key by
key."""

from collections import OrderedDict

import numpy as np
import pytest
import torch
from test_interop_torch import TOLERANCE, randomize, torch_outputs
from torch import nn

import ferrograd as fg
from ferrograd import layers
from ferrograd.interop import load_torch_state_dict, to_torch_state_dict


@pytest.fixture(autouse=True)
def _fresh_names_and_seeds():
    fg.clear_session()
    fg.set_seed(0)
    torch.manual_seed(0)


def image_models():
    cf = dict(data_format="channels_first")
    model = fg.Sequential(
        [
            layers.Input(shape=(3, 16, 14)),
            layers.Conv2D(8, 3, strides=2, groups=1, activation="relu", **cf),
            layers.DepthwiseConv2D((3, 2), depth_multiplier=2, **cf),
            layers.SeparableConv2D(6, 3, depth_multiplier=2, dilation_rate=(1, 2), **cf),
            layers.Conv2DTranspose(4, 3, strides=2, **cf),
            layers.Conv2D(4, 2, groups=2, **cf),
            layers.MaxPooling2D(2, **cf),
            layers.Flatten(),
            layers.Dense(5),
        ]
    )
    separable = nn.Sequential(
        OrderedDict(
            depthwise=nn.Conv2d(16, 32, 3, groups=16, dilation=(1, 2), bias=False),
            pointwise=nn.Conv2d(32, 6, 1),
        )
    )
    torch_model = nn.Sequential(
        OrderedDict(
            conv2d=nn.Conv2d(3, 8, 3, stride=2),
            relu=nn.ReLU(),
            depthwise_conv2d=nn.Conv2d(8, 16, (3, 2), groups=8),
            separable_conv2d=separable,
            conv2d_transpose=nn.ConvTranspose2d(6, 4, 3, stride=2),
            conv2d_1=nn.Conv2d(4, 4, 2, groups=2),
            pool=nn.MaxPool2d(2),
            flatten=nn.Flatten(),
            dense=nn.LazyLinear(5),
        )
    )
    return model, torch_model


def test_convnet_weights_move_both_ways(rng):
    model, torch_model = image_models()
    x = rng.standard_normal((4, 3, 16, 14)).astype("float32")
    torch_outputs(torch_model, x)  # sizes the LazyLinear
    randomize(model, rng)
    torch_model.load_state_dict(to_torch_state_dict(model))
    np.testing.assert_allclose(
        torch_outputs(torch_model, x), model.predict(x, verbose=0), **TOLERANCE
    )
    # And back: PyTorch's own initial weights into a fresh model.
    fg.clear_session()
    fresh, _ = image_models()
    torch_model = image_models()[1]
    torch_outputs(torch_model, x)
    load_torch_state_dict(fresh, torch_model.state_dict())
    np.testing.assert_allclose(
        torch_outputs(torch_model, x), fresh.predict(x, verbose=0), **TOLERANCE
    )


def test_conv1d_and_transposed_conv1d_with_numbered_prefixes(rng):
    cf = dict(data_format="channels_first")
    model = fg.Sequential(
        [
            layers.Input(shape=(4, 20)),
            layers.Conv1D(6, 5, dilation_rate=2, groups=2, activation="tanh", **cf),
            layers.Conv1DTranspose(3, 4, strides=3, use_bias=False, **cf),
        ]
    )
    torch_model = nn.Sequential(
        nn.Conv1d(4, 6, 5, dilation=2, groups=2),
        nn.Tanh(),
        nn.ConvTranspose1d(6, 3, 4, stride=3, bias=False),
    )
    randomize(model, rng)
    state = to_torch_state_dict(model, prefixes=["0", "2"])
    assert sorted(state) == ["0.bias", "0.weight", "2.weight"]
    assert tuple(state["2.weight"].shape) == (6, 3, 4)
    torch_model.load_state_dict(state)
    x = rng.standard_normal((3, 4, 20)).astype("float32")
    np.testing.assert_allclose(
        torch_outputs(torch_model, x), model.predict(x, verbose=0), **TOLERANCE
    )
    round_trip = [w.copy() for w in model.get_weights()]
    load_torch_state_dict(model, torch_model.state_dict(), prefixes=["0", "2"])
    for before, after in zip(round_trip, model.get_weights(), strict=True):
        np.testing.assert_array_equal(before, after)


def test_layouts_are_the_documented_permutations(rng):
    model = fg.Sequential(
        [
            layers.Input(shape=(5, 5, 3)),
            layers.DepthwiseConv2D(2, depth_multiplier=2),
            layers.SeparableConv2D(4, 2),
        ]
    )
    randomize(model, rng)
    depthwise, depthwise_bias, sep_depthwise, pointwise, bias = model.get_weights()
    state = to_torch_state_dict(model, as_numpy=True)
    np.testing.assert_array_equal(
        state["depthwise_conv2d.weight"],
        depthwise.reshape(2, 2, 1, 6).transpose(3, 2, 0, 1),
    )
    np.testing.assert_array_equal(state["depthwise_conv2d.bias"], depthwise_bias)
    np.testing.assert_array_equal(
        state["separable_conv2d.pointwise.weight"], pointwise.transpose(3, 2, 0, 1)
    )
    np.testing.assert_array_equal(state["separable_conv2d.pointwise.bias"], bias)
    assert state["separable_conv2d.depthwise.weight"].shape == (6, 1, 2, 2)
    bad = dict(state)
    bad["separable_conv2d.pointwise.weight"] = np.zeros((4, 5, 1, 1), "float32")
    with pytest.raises(ValueError, match=r"separable_conv2d.pointwise.weight.*\(4, 6, 1, 1\)"):
        load_torch_state_dict(model, bad)

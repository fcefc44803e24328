"""Weights to and from PyTorch: the same network built in both, predictions compared."""

import sys
from collections import OrderedDict

import numpy as np
import pytest
import torch
from torch import nn

import ferrograd as fg
from ferrograd import layers
from ferrograd.interop import load_torch_state_dict, to_torch_state_dict

# float32 rounding: both compute the same sums in a different order.
TOLERANCE = dict(rtol=1e-5, atol=1e-5)


@pytest.fixture(autouse=True)
def _fresh_names_and_seeds():
    fg.clear_session()  # layer names count from "dense" again
    fg.set_seed(0)
    torch.manual_seed(0)


def torch_outputs(module, x):
    module.eval()
    with torch.no_grad():
        return module(torch.from_numpy(x)).numpy()


def randomize(model, rng):
    """Nonzero values everywhere (biases included), so that a misplaced weight shows."""
    model.set_weights([rng.normal(0, 0.5, w.shape).astype(np.float32) for w in model.get_weights()])


def test_mlp_weights_move_both_ways_to_a_numbered_sequential():
    rng = np.random.default_rng(0)
    model = fg.Sequential(
        [
            layers.Dense(16, activation="relu", input_shape=(8,)),
            layers.Dense(8, activation="tanh"),
            layers.Dense(3),
        ]
    )
    randomize(model, rng)
    torch_model = nn.Sequential(
        nn.Linear(8, 16), nn.ReLU(), nn.Linear(16, 8), nn.Tanh(), nn.Linear(8, 3)
    )
    x = rng.normal(size=(32, 8)).astype(np.float32)

    state = to_torch_state_dict(model, prefixes=["0", "2", "4"])
    assert list(state) == ["0.weight", "0.bias", "2.weight", "2.bias", "4.weight", "4.bias"]
    assert isinstance(state["0.weight"], torch.Tensor) and state["0.weight"].shape == (16, 8)
    torch_model.load_state_dict(state)  # strict: every key and shape must match
    np.testing.assert_allclose(
        torch_outputs(torch_model, x), model.predict(x, verbose=0), **TOLERANCE
    )

    # And back: fresh PyTorch weights into a fresh ferrograd model.
    torch_model = nn.Sequential(
        nn.Linear(8, 16), nn.ReLU(), nn.Linear(16, 8), nn.Tanh(), nn.Linear(8, 3)
    )
    expected = torch_outputs(torch_model, x)
    assert not np.allclose(expected, model.predict(x, verbose=0), atol=1e-2)
    load_torch_state_dict(model, torch_model.state_dict(), prefixes={"dense": "0", "dense_1": "2",
                                                                     "dense_2": "4"})  # fmt: skip
    np.testing.assert_allclose(model.predict(x, verbose=0), expected, **TOLERANCE)


def test_default_keys_are_the_layer_names_and_numpy_arrays_load_too():
    model = fg.Sequential(
        [
            layers.Dense(4, activation="relu", input_shape=(3,), name="hidden"),
            layers.Dense(2, use_bias=False, name="out"),
        ]
    )
    torch_model = nn.Sequential(
        OrderedDict(hidden=nn.Linear(3, 4), relu=nn.ReLU(), out=nn.Linear(4, 2, bias=False))
    )
    state = to_torch_state_dict(model, as_numpy=True)
    assert list(state) == ["hidden.weight", "hidden.bias", "out.weight"]
    assert all(isinstance(v, np.ndarray) for v in state.values())
    np.testing.assert_array_equal(state["out.weight"], model.get_weights()[2].T)

    numpy_state = {k: v.numpy() for k, v in torch_model.state_dict().items()}
    load_torch_state_dict(model, numpy_state)
    x = np.random.default_rng(1).normal(size=(5, 3)).astype(np.float32)
    np.testing.assert_allclose(
        model.predict(x, verbose=0), torch_outputs(torch_model, x), **TOLERANCE
    )


class TorchRecurrent(nn.Module):
    """GRU (sequences) -> SimpleRNN -> LSTM-free head, named as the ferrograd layers."""

    def __init__(self):
        super().__init__()
        self.gru = nn.GRU(4, 5, batch_first=True)
        self.simple_rnn = nn.RNN(5, 3, batch_first=True)
        self.dense = nn.Linear(3, 2)

    def forward(self, x):
        sequence, _ = self.gru(x)
        sequence, _ = self.simple_rnn(sequence)
        return self.dense(sequence[:, -1])


class TorchLSTM(nn.Module):
    def __init__(self):
        super().__init__()
        self.lstm = nn.LSTM(4, 6, batch_first=True)
        self.dense = nn.Linear(6, 3)

    def forward(self, x):
        sequence, _ = self.lstm(x)
        return self.dense(sequence[:, -1])


def test_lstm_weights_move_both_ways():
    rng = np.random.default_rng(2)
    model = fg.Sequential([layers.LSTM(6, input_shape=(7, 4)), layers.Dense(3)])
    x = rng.normal(size=(9, 7, 4)).astype(np.float32)

    torch_model = TorchLSTM()  # PyTorch draws both biases nonzero: their sum must be kept
    load_torch_state_dict(model, torch_model.state_dict())
    np.testing.assert_allclose(
        model.predict(x, verbose=0), torch_outputs(torch_model, x), **TOLERANCE
    )

    randomize(model, rng)
    torch_model = TorchLSTM()
    torch_model.load_state_dict(to_torch_state_dict(model))
    np.testing.assert_allclose(
        torch_outputs(torch_model, x), model.predict(x, verbose=0), **TOLERANCE
    )
    assert torch.count_nonzero(torch_model.lstm.bias_hh_l0) == 0


def test_gru_and_simple_rnn_weights_move_both_ways():
    rng = np.random.default_rng(3)
    model = fg.Sequential(
        [layers.GRU(5, return_sequences=True, input_shape=(6, 4)), layers.SimpleRNN(3),
         layers.Dense(2)]
    )  # fmt: skip
    x = rng.normal(size=(8, 6, 4)).astype(np.float32)

    torch_model = TorchRecurrent()
    load_torch_state_dict(model, torch_model.state_dict())
    np.testing.assert_allclose(
        model.predict(x, verbose=0), torch_outputs(torch_model, x), **TOLERANCE
    )

    randomize(model, rng)  # the GRU's two biases differ: their blocks must land apart
    torch_model = TorchRecurrent()
    torch_model.load_state_dict(to_torch_state_dict(model))
    np.testing.assert_allclose(
        torch_outputs(torch_model, x), model.predict(x, verbose=0), **TOLERANCE
    )


def test_embedding_and_bidirectional_lstm_weights_move_both_ways():
    rng = np.random.default_rng(4)
    model = fg.Sequential(
        [
            layers.Embedding(10, 4, input_shape=(5,)),
            layers.Bidirectional(layers.LSTM(3, return_sequences=True)),
        ]
    )

    class TorchBidirectional(nn.Module):
        def __init__(self):
            super().__init__()
            self.embedding = nn.Embedding(10, 4)
            self.bidirectional = nn.LSTM(4, 3, batch_first=True, bidirectional=True)

        def forward(self, ids):
            return self.bidirectional(self.embedding(ids.long()))[0]

    ids = rng.integers(0, 10, size=(6, 5)).astype(np.float32)
    torch_model = TorchBidirectional()
    load_torch_state_dict(model, torch_model.state_dict())
    np.testing.assert_allclose(
        model.predict(ids, verbose=0), torch_outputs(torch_model, ids), **TOLERANCE
    )

    randomize(model, rng)
    state = to_torch_state_dict(model)
    assert "bidirectional.weight_ih_l0_reverse" in state
    torch_model = TorchBidirectional()
    torch_model.load_state_dict(state)
    np.testing.assert_allclose(
        torch_outputs(torch_model, ids), model.predict(ids, verbose=0), **TOLERANCE
    )


def test_batch_normalization_statistics_move_both_ways():
    rng = np.random.default_rng(5)
    model = fg.Sequential(
        [layers.Dense(6, input_shape=(4,)), layers.BatchNormalization(), layers.Dense(2)]
    )
    # ferrograd's (Keras's) epsilon is 1e-3 and momentum 0.99; nn.BatchNorm1d's 1e-5 and 0.1.
    torch_model = nn.Sequential(nn.Linear(4, 6), nn.BatchNorm1d(6, eps=1e-3, momentum=0.01),
                                nn.Linear(6, 2))  # fmt: skip
    with torch.no_grad():
        torch_model[1].running_mean.uniform_(-1, 1)
        torch_model[1].running_var.uniform_(0.5, 2)
        torch_model[1].weight.uniform_(0.5, 1.5)
        torch_model[1].bias.uniform_(-1, 1)
    torch_model[1].num_batches_tracked.fill_(123)
    x = rng.normal(size=(16, 4)).astype(np.float32)

    load_torch_state_dict(model, torch_model.state_dict(), prefixes=["0", "1", "2"])
    gamma, beta, mean, variance = model.layers[1].get_weights()
    np.testing.assert_array_equal(variance, torch_model[1].running_var.numpy())
    np.testing.assert_allclose(
        model.predict(x, verbose=0), torch_outputs(torch_model, x), **TOLERANCE
    )

    randomize(model, rng)
    weights = model.get_weights()
    weights[5] = np.abs(weights[5]) + 0.5  # a variance must be positive
    model.set_weights(weights)
    state = to_torch_state_dict(model, prefixes=["0", "1", "2"])
    assert state["1.num_batches_tracked"].dtype == torch.int64
    torch_model.load_state_dict(state)
    np.testing.assert_allclose(
        torch_outputs(torch_model, x), model.predict(x, verbose=0), **TOLERANCE
    )


def test_a_mismatched_state_dict_is_refused_with_every_problem_and_changes_nothing():
    model = fg.Sequential(
        [layers.Dense(4, input_shape=(3,)), layers.BatchNormalization(), layers.Dense(2)]
    )
    before = model.get_weights()
    state = to_torch_state_dict(model)
    state["dense.weight"] = torch.zeros(4, 5)
    del state["dense_1.bias"]
    state["extra.weight"] = torch.zeros(1)
    with pytest.raises(ValueError) as error:
        load_torch_state_dict(model, state)
    message = str(error.value)
    assert "missing keys: ['dense_1.bias']" in message
    assert "unexpected keys: ['extra.weight']" in message
    assert "dense.weight: expected shape (4, 3), received (4, 5)" in message
    for old, new in zip(before, model.get_weights(), strict=True):
        np.testing.assert_array_equal(old, new)

    state = to_torch_state_dict(model)
    state["dense.bias"] = torch.zeros(4, dtype=torch.int32)
    with pytest.raises(
        ValueError, match=r"dense.bias: expected floating-point values, received dtype int32"
    ):
        load_torch_state_dict(model, state)
    del state["batch_normalization.num_batches_tracked"]  # optional: loading works without it
    state["dense.bias"] = torch.ones(4, dtype=torch.float64)
    load_torch_state_dict(model, state)
    np.testing.assert_array_equal(model.layers[0].get_weights()[1], np.ones(4, np.float32))


def test_bad_prefixes_and_arguments_are_refused():
    model = fg.Sequential([layers.Dense(4, input_shape=(3,)), layers.Dropout(0.5), layers.Dense(2)])
    with pytest.raises(
        ValueError,
        match=r"one entry per layer with weights \(2: \['dense', 'dense_1'\]\), received 3",
    ):
        to_torch_state_dict(model, prefixes=["0", "1", "2"])
    with pytest.raises(ValueError, match=r"no weights for: \['dropout'\]"):
        to_torch_state_dict(model, prefixes={"dropout": "1"})
    with pytest.raises(ValueError, match="distinct"):
        to_torch_state_dict(model, prefixes=["0", "0"])
    with pytest.raises(TypeError, match="mapping"):
        load_torch_state_dict(model, [("dense.weight", torch.zeros(4, 3))])
    assert list(to_torch_state_dict(model, prefixes={"dense_1": "head"})) == [
        "dense.weight", "dense.bias", "head.weight", "head.bias"
    ]  # fmt: skip


def test_numpy_arrays_come_back_when_torch_cannot_be_imported(monkeypatch):
    model = fg.Sequential([layers.Dense(2, input_shape=(3,))])
    monkeypatch.setitem(sys.modules, "torch", None)  # makes `import torch` raise ImportError
    state = to_torch_state_dict(model)
    assert list(state) == ["dense.weight", "dense.bias"]
    assert isinstance(state["dense.weight"], np.ndarray) and state["dense.weight"].shape == (2, 3)
    load_torch_state_dict(model, {"dense.weight": np.ones((2, 3)), "dense.bias": np.zeros(2)})
    np.testing.assert_array_equal(model.get_weights()[0], np.ones((3, 2), np.float32))

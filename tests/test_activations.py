"""The registry of activation functions, against the Rust core's."""

import pytest

import ferrograd as fg
from ferrograd import _core, activations


def test_every_registered_name_is_known_to_the_core_and_round_trips():
    names = list(activations._BY_NAME)
    assert names[:5] == ["linear", "relu", "sigmoid", "tanh", "softmax"]
    probe = _core.Loss.from_name("binary_crossentropy")
    for name in names:
        function = activations.get(name)
        canonical = activations.serialize(name)
        assert activations.serialize(function) == canonical
        assert getattr(activations, canonical) is function
        assert canonical in activations.__all__ and name in activations.__all__
        # The core parses every name (fusing with a loss parses the activation).
        fused = probe.fused_with(name)
        assert (fused is not None) == (name == "sigmoid")
    assert activations.serialize("swish") == "silu" and activations.swish is activations.silu
    assert activations.serialize(None) == "linear"


def test_unknown_activations_are_refused():
    with pytest.raises(ValueError, match="relu6.*linear, relu"):
        activations.serialize("relu6")
    with pytest.raises(TypeError, match="activation must be"):
        activations.serialize(print)
    with pytest.raises(ValueError, match="relu6"):
        _core.Loss.from_name("mse").fused_with("relu6")


def test_functions_compute_what_they_say():
    x = fg.tensor([-1.0, 2.0])
    assert activations.relu(x).numpy().tolist() == [0.0, 2.0]
    assert activations.linear([1.0]).numpy().tolist() == [1.0]

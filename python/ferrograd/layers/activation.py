"""``Activation``: an activation function as a layer."""

from __future__ import annotations

from ferrograd import activations
from ferrograd.layers.layer import Layer


class Activation(Layer):
    """Applies an activation function: ``layers.Activation("relu")``.

    Args:
        activation: a name (``"relu"``, ``"softmax"``, ...) or a function of
            ``fg.activations``.

    Examples:
        >>> layers.Activation("relu")(np.array([[-1.0, 2.0]], dtype="float32")).numpy()
        array([[0., 2.]], dtype=float32)
    """

    kind = "Activation"

    def __init__(self, activation, **kwargs):
        super().__init__(**kwargs)
        self.activation = activations.get(activation)

    def settings(self):
        """The settings the Rust layer is built from."""
        return {"activation": activations.serialize(self.activation)}

"""BatchNormalization over images: the channel axis (axis=-1, or 1 for channels first) against
torch.nn.BatchNorm2d on copied weights in training and at inference, its moving statistics
with Keras's momentum convention, and float64 gradients against finite differences."""

import numpy as np
import pytest
import torch
from test_conv_layers import finite_difference_check

import ferrograd as fg
from ferrograd import layers


def with_weights(layer, rng, channels):
    """Random gamma, beta and moving statistics; returns them."""
    values = [
        rng.uniform(0.5, 2.0, channels),
        rng.standard_normal(channels),
        rng.standard_normal(channels),
        rng.uniform(0.5, 2.0, channels),
    ]
    layer.set_weights(values)
    return values


def torch_batch_norm(values, momentum, epsilon):
    gamma, beta, mean, variance = (torch.tensor(v) for v in values)
    # PyTorch's momentum weighs the new batch: Keras's 0.9 is PyTorch's 0.1.
    norm = torch.nn.BatchNorm2d(len(gamma), eps=epsilon, momentum=1 - momentum).double()
    with torch.no_grad():
        norm.weight.copy_(gamma)
        norm.bias.copy_(beta)
        norm.running_mean.copy_(mean)
        norm.running_var.copy_(variance)
    return norm


@pytest.mark.parametrize("data_format", ["channels_last", "channels_first"])
def test_batch_norm_on_images_equals_torch_batch_norm_2d(data_format, rng):
    channels, momentum, epsilon = 3, 0.9, 1e-3
    x = rng.standard_normal((6, 5, 4, channels)) * 2 + 1
    if data_format == "channels_first":
        x = x.transpose(0, 3, 1, 2).copy()
    axis = 1 if data_format == "channels_first" else -1
    norm = layers.BatchNormalization(axis=axis, momentum=momentum, epsilon=epsilon, dtype="float64")
    norm.build(x.shape)
    values = with_weights(norm, rng, channels)
    reference = torch_batch_norm(values, momentum, epsilon)
    x_torch = torch.tensor(x if data_format == "channels_first" else x.transpose(0, 3, 1, 2))

    def as_ours(y):
        y = y.detach().numpy()
        return y if data_format == "channels_first" else y.transpose(0, 2, 3, 1)

    # Inference: the moving statistics, unchanged.
    reference.eval()
    np.testing.assert_allclose(
        norm(x, training=False).numpy(), as_ours(reference(x_torch)), rtol=1e-12, atol=1e-12
    )
    # Training: the batch's statistics over (batch, height, width).
    reference.train()
    np.testing.assert_allclose(
        norm(x, training=True).numpy(), as_ours(reference(x_torch)), rtol=1e-10, atol=1e-12
    )
    moving_mean, moving_variance = (w.numpy() for w in norm.non_trainable_weights)
    np.testing.assert_allclose(moving_mean, reference.running_mean.numpy(), rtol=1e-12)
    # Keras keeps the biased batch variance, PyTorch the unbiased one.
    axes = (0, 2, 3) if data_format == "channels_first" else (0, 1, 2)
    biased = x.var(axis=axes)
    np.testing.assert_allclose(moving_variance, momentum * values[3] + (1 - momentum) * biased)
    count = x.size // channels
    unbiased_from_torch = (reference.running_var.numpy() - momentum * values[3]) / (1 - momentum)
    np.testing.assert_allclose(unbiased_from_torch * (count - 1) / count, biased, rtol=1e-10)


@pytest.mark.parametrize("axis, shape", [(-1, (3, 2, 3, 2)), (1, (3, 2, 3, 2)), (2, (4, 3, 2))])
def test_batch_norm_gradients_on_any_axis(axis, shape, rng):
    x = fg.tensor(rng.standard_normal(shape), dtype="float64", requires_grad=True)
    norm = layers.BatchNormalization(axis=axis, dtype="float64")
    norm.build(shape)
    gamma, beta = norm.trainable_weights
    fg._core.assign(gamma, rng.standard_normal(shape[axis]))
    finite_difference_check(lambda: norm(x, training=True), [x, gamma, beta])
    finite_difference_check(lambda: norm(x, training=False), [x, gamma, beta])


def test_batch_norm_channels_first_in_a_fitted_model_saves_and_loads(tmp_path, rng):
    model = fg.Sequential(
        [
            layers.Input(shape=(2, 6, 6)),
            layers.Conv2D(4, 3, data_format="channels_first"),
            layers.BatchNormalization(axis=1),
            layers.Flatten(),
            layers.Dense(1),
        ]
    )
    model.compile(optimizer="adam", loss="mse")
    x = rng.standard_normal((32, 2, 6, 6)).astype("float32")
    model.fit(x, rng.standard_normal((32, 1)).astype("float32"), epochs=1, verbose=0)
    assert [w.shape for w in model.layers[1].get_weights()] == [(4,)] * 4
    assert model.layers[1].get_config()["axis"] == 1
    model.save(tmp_path / "bn.fgm")
    loaded = fg.models.load_model(tmp_path / "bn.fgm")
    np.testing.assert_array_equal(loaded.predict(x, verbose=0), model.predict(x, verbose=0))


@pytest.mark.parametrize("axis", [0, 4, -5, [1, 2], "1"])
def test_batch_norm_bad_axis_is_refused_by_name(axis):
    with pytest.raises(ValueError, match="BatchNormalization"):
        layers.BatchNormalization(axis=axis).build((None, 3, 4, 5))


def test_batch_norm_on_the_channels_first_axis_exports_to_onnx(tmp_path, rng):
    onnxruntime = pytest.importorskip("onnxruntime")
    pytest.importorskip("onnx")
    model = fg.Sequential(
        [layers.Input(shape=(3, 4, 5)), layers.BatchNormalization(axis=1, epsilon=0.01)]
    )
    norm = model.layers[-1]
    norm.set_weights(
        [rng.uniform(0.5, 2, 3), rng.standard_normal(3)]
        + [rng.standard_normal(3), rng.uniform(0.5, 2, 3)]
    )
    x = rng.standard_normal((2, 3, 4, 5)).astype("float32")
    fg.onnx.export(model, tmp_path / "bn.onnx")
    session = onnxruntime.InferenceSession(str(tmp_path / "bn.onnx"))
    (exported,) = session.run(None, {"input": x})
    np.testing.assert_allclose(exported, model.predict(x, verbose=0), rtol=1e-5, atol=1e-6)

"""The everyday layers of Keras 3: Masking, GaussianNoise, GaussianDropout,
ActivityRegularization and Rescaling: Keras's formulas on literal values, float64 gradients
against finite differences, masks reaching the recurrent layers, config round trips, save/load,
and bad arguments refused naming the layer."""

import numpy as np
import pytest
from gradcheck import check_gradients

import ferrograd as fg
from ferrograd import layers

EVERYDAY = [
    layers.Masking(mask_value=-1.0),
    layers.GaussianNoise(0.3, seed=4),
    layers.GaussianDropout(0.25),
    layers.ActivityRegularization(l1=0.01, l2=0.02),
    layers.Rescaling(0.5, offset=2.0),
]


@pytest.mark.parametrize("layer", EVERYDAY, ids=lambda layer: type(layer).__name__)
def test_config_round_trips(layer):
    config = layer.get_config()
    again = type(layer).from_config(config)
    assert again.get_config() == config
    assert type(layer).__name__ in fg.layers.__all__


def test_rescaling_is_scale_then_offset_with_its_gradient(rng):
    x = np.array([[0.0, 127.5, 255.0]], dtype="float32")
    np.testing.assert_allclose(layers.Rescaling(1 / 127.5, -1)(x).numpy(), [[-1, 0, 1]])
    layer = layers.Rescaling(3.0, offset=0.5, dtype="float64")
    check_gradients(lambda t: layer(t), rng.standard_normal((2, 3)))
    for bad in ({"scale": "x"}, {"scale": float("inf")}, {"scale": 1, "offset": None}):
        with pytest.raises(ValueError, match="Rescaling"):
            layers.Rescaling(**bad)


def test_masking_zeroes_masked_steps_and_masks_the_lstm(rng):
    x = rng.standard_normal((3, 5, 2))
    x[0, 1:3] = -1.0
    x[2, 4] = -1.0
    x[1, 0, 0] = -1.0  # one feature only: the step stays
    keep = np.ones((3, 5), dtype=bool)
    keep[0, 1:3] = keep[2, 4] = False
    masking = layers.Masking(mask_value=-1.0, dtype="float64")
    out = masking(x).numpy()
    np.testing.assert_array_equal(out, x * keep[..., None])
    lstm = layers.LSTM(4, return_sequences=True, dtype="float64")
    via_masking = lstm(masking(x)).numpy()
    np.testing.assert_allclose(via_masking, lstm(x * keep[..., None], mask=keep).numpy())
    # In a model the mask travels in the graph to the LSTM.
    model = fg.Sequential(
        [layers.Input((5, 2), dtype="float64"), layers.Masking(-1.0, dtype="float64"), lstm]
    )
    np.testing.assert_allclose(model.predict(x, verbose=0), via_masking, rtol=1e-12)
    # The mask is a step function of the input, a constant for the gradient (as in Keras):
    # the gradient is the coefficient at kept steps, zero at padded ones.
    t = fg.tensor(x, dtype="float64", requires_grad=True)
    coefficients = rng.standard_normal(x.shape)
    (masking(t) * fg.tensor(coefficients, dtype="float64")).sum().backward()
    np.testing.assert_array_equal(t.grad.numpy(), coefficients * keep[..., None])
    check_gradients(lambda t: masking(t), rng.standard_normal((2, 3, 2)))
    with pytest.raises(ValueError, match="Masking"):
        layers.Masking(mask_value="pad")
    with pytest.raises(ValueError, match=r"Masking.*3-D"):
        layers.Masking()(np.ones((2, 3), "float32"))


def test_gaussian_noise_in_training_only_with_keras_statistics():
    x = np.full((400, 250), 2.0)
    layer = layers.GaussianNoise(0.5, dtype="float64")
    np.testing.assert_array_equal(layer(x).numpy(), x)
    noisy = layer(x, training=True).numpy()
    assert abs(noisy.mean() - 2.0) < 0.01
    assert abs(noisy.std() - 0.5) < 0.01
    # A seed gives the layer a generator of its own: same seed, same noise.
    first = layers.GaussianNoise(0.5, seed=3, dtype="float64")(x[:4], training=True).numpy()
    fg.set_seed(99)
    second = layers.GaussianNoise(0.5, seed=3, dtype="float64")(x[:4], training=True).numpy()
    np.testing.assert_array_equal(first, second)
    # Without one, fg.set_seed decides.
    fg.set_seed(5)
    a = layer(x[:4], training=True).numpy()
    fg.set_seed(5)
    np.testing.assert_array_equal(layer(x[:4], training=True).numpy(), a)
    for bad in (-0.1, 1.5, "x"):
        with pytest.raises(ValueError, match="GaussianNoise"):
            layers.GaussianNoise(bad)
    with pytest.raises(ValueError, match="GaussianNoise: seed"):
        layers.GaussianNoise(0.1, seed=-1)


def test_gaussian_dropout_is_multiplicative_noise_with_its_gradient(rng):
    x = np.full((400, 250), 3.0)
    layer = layers.GaussianDropout(0.2, dtype="float64")
    np.testing.assert_array_equal(layer(x).numpy(), x)
    noisy = layer(x, training=True).numpy()
    assert abs(noisy.mean() - 3.0) < 0.02
    assert abs(noisy.std() - 3.0 * np.sqrt(0.2 / 0.8)) < 0.02

    def run(t):
        fg.set_seed(8)  # the same noise at every evaluation
        return layer(t, training=True)

    check_gradients(run, rng.standard_normal((3, 4)))
    for bad in (-0.1, 1.0):
        with pytest.raises(ValueError, match="GaussianDropout"):
            layers.GaussianDropout(bad)


def test_activity_regularization_adds_keras_penalty_to_the_loss(rng):
    x = rng.standard_normal((6, 3))
    layer = layers.ActivityRegularization(l1=0.1, l2=0.05, dtype="float64")
    np.testing.assert_array_equal(layer(x).numpy(), x)
    expected = 0.1 * np.abs(x).sum() + 0.05 * (x**2).sum()
    assert len(layer.losses) == 1
    np.testing.assert_allclose(float(layer.losses[0].numpy()), expected, rtol=1e-12)
    check_gradients(lambda t: layer(t) + layer.losses[0], x)

    inputs = layers.Input((3,), dtype="float64")
    dense = layers.Dense(2, dtype="float64")
    outputs = layers.ActivityRegularization(l2=0.1, dtype="float64")(dense(inputs))
    model = fg.Model(inputs, outputs)
    model.compile(loss="mse")
    y = rng.standard_normal((6, 2))
    predicted = model.predict(x, verbose=0)
    loss = model.evaluate(x, y, batch_size=6, verbose=0)
    mse = ((predicted - y) ** 2).mean()
    np.testing.assert_allclose(loss, mse + 0.1 * (predicted**2).sum(), rtol=1e-6)
    for bad in ({"l1": -1.0}, {"l2": "x"}):
        with pytest.raises(ValueError, match="ActivityRegularization"):
            layers.ActivityRegularization(**bad)


def test_a_model_of_every_everyday_layer_saves_and_loads(tmp_path, rng):
    model = fg.Sequential(
        [
            layers.Input((4, 3)),
            layers.Rescaling(0.5, offset=0.1),
            layers.Masking(mask_value=0.1),
            layers.GaussianNoise(0.2, seed=1),
            layers.GaussianDropout(0.1),
            layers.ActivityRegularization(l2=0.01),
            layers.GRU(2),
        ]
    )
    x = rng.standard_normal((5, 4, 3)).astype("float32")
    x[0, 2:] = 0.0  # rescaled to the mask value: padding
    before = model.predict(x, verbose=0)
    model.save(tmp_path / "m.keras")
    loaded = fg.models.load_model(tmp_path / "m.keras")
    np.testing.assert_allclose(loaded.predict(x, verbose=0), before, rtol=1e-6)
    assert [type(layer).__name__ for layer in loaded.layers] == [
        type(layer).__name__ for layer in model.layers
    ]
    model.compile(optimizer="adam", loss="mse")
    model.fit(x, np.zeros((5, 2), "float32"), epochs=1, verbose=0)


def test_time_distributed_dense_is_the_dense_of_every_step(rng):
    x = rng.standard_normal((2, 5, 4))
    td = layers.TimeDistributed(layers.Dense(3, activation="tanh", dtype="float64"))
    out = td(x).numpy()
    kernel, bias = td.get_weights()
    np.testing.assert_allclose(out, np.tanh(x @ kernel + bias), rtol=1e-12)
    assert [w.shape for w in td.weights] == [(4, 3), (3,)]
    check_gradients(lambda t: td(t), x)
    # In a functional model, with a mask passing through to the LSTM after it.
    inputs = layers.Input((5, 4), dtype="float64")
    masked = layers.Masking(dtype="float64")(inputs)
    hidden = layers.TimeDistributed(layers.Dense(3, dtype="float64"))(masked)
    assert hidden.shape == (None, 5, 3)
    lstm = layers.LSTM(2, dtype="float64")
    model = fg.Model(inputs, lstm(hidden))
    x[0, 3:] = 0.0
    keep = np.ones((2, 5), dtype=bool)
    keep[0, 3:] = False
    inner = model.layers[2]
    steps = x @ inner.get_weights()[0] + inner.get_weights()[1]
    np.testing.assert_allclose(
        model.predict(x, verbose=0), lstm(steps, mask=keep).numpy(), rtol=1e-10
    )


def test_time_distributed_conv2d_and_config_and_files(tmp_path, rng):
    x = rng.standard_normal((2, 3, 6, 6, 1)).astype("float32")
    td = layers.TimeDistributed(layers.Conv2D(2, 3))
    out = td(x).numpy()
    assert out.shape == (2, 3, 4, 4, 2)
    conv = layers.Conv2D(2, 3)
    conv.build((None, 6, 6, 1))
    conv.set_weights(td.get_weights())
    np.testing.assert_allclose(out[1, 2], conv(x[1, 2][None]).numpy()[0], rtol=1e-5, atol=1e-6)
    config = td.get_config()
    assert config["layer"]["class_name"] == "Conv2D"
    assert layers.TimeDistributed.from_config(config).get_config() == config
    model = fg.Sequential([layers.Input((3, 4)), layers.TimeDistributed(layers.Dense(2))])
    before = model.predict(x[:, :, :4, 0, 0], verbose=0)
    model.save(tmp_path / "td.keras")
    loaded = fg.models.load_model(tmp_path / "td.keras")
    np.testing.assert_allclose(loaded.predict(x[:, :, :4, 0, 0], verbose=0), before, rtol=1e-6)
    with pytest.raises(ValueError, match="TimeDistributed"):
        layers.TimeDistributed("dense")
    with pytest.raises(ValueError, match="TimeDistributed"):
        layers.TimeDistributed(layers.Dense(2))(np.ones((2, 3), "float32"))

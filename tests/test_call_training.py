"""``layer(x, training=...)`` and ``base(x, training=False)`` in functional graphs: the call
keeps its mode whatever the mode of the pass, as in Keras (the transfer-learning recipe)."""

import numpy as np
import pytest

import ferrograd as fg
from ferrograd import layers


def base_model():
    """A small base with dropout and batch normalisation, whose mode shows in its output."""
    inputs = fg.Input(shape=(6,))
    x = layers.Dense(6)(inputs)
    x = layers.BatchNormalization()(x)
    x = layers.Dropout(0.5)(x)
    return fg.Model(inputs, x, name="base")


def data(rows=64):
    rng = np.random.default_rng(0)
    x = rng.normal(size=(rows, 6)).astype("float32") * 3 + 1
    y = rng.normal(size=(rows, 1)).astype("float32")
    return x, y


def test_a_base_called_with_training_false_stays_in_inference_mode_while_fit_trains():
    fg.set_seed(0)
    base = base_model()
    base.trainable = False
    inputs = fg.Input(shape=(6,))
    outputs = layers.Dense(1)(base(inputs, training=False))
    model = fg.Model(inputs, outputs)
    model.compile(optimizer="sgd", loss="mse")
    x, y = data()
    statistics_before = [w.numpy().copy() for w in base.non_trainable_weights]
    model.fit(x, y, epochs=2, batch_size=16, verbose=0)
    # Inference mode: the moving statistics did not move and dropout never dropped.
    for before, after in zip(statistics_before, base.non_trainable_weights, strict=True):
        np.testing.assert_array_equal(before, after.numpy())
    # The training-mode forward of the whole model equals its inference forward.
    training_out = model(x, training=True).numpy()
    np.testing.assert_allclose(training_out, model.predict(x, verbose=0), rtol=1e-6)


def test_without_training_false_the_same_base_follows_the_pass():
    fg.set_seed(0)
    base = base_model()
    inputs = fg.Input(shape=(6,))
    outputs = layers.Dense(1)(base(inputs))
    model = fg.Model(inputs, outputs)
    x, _ = data()
    assert not np.allclose(model(x, training=True).numpy(), model.predict(x, verbose=0))


def test_a_layer_called_with_training_true_drops_at_inference_too():
    fg.set_seed(0)
    inputs = fg.Input(shape=(200,))
    outputs = layers.Dropout(0.5)(inputs, training=True)  # Monte Carlo dropout
    model = fg.Model(inputs, outputs)
    x = np.ones((4, 200), dtype="float32")
    predicted = model.predict(x, verbose=0)
    dropped = float(np.mean(predicted == 0.0))
    assert 0.35 < dropped < 0.65
    assert set(np.unique(predicted)) <= {0.0, 2.0}


def test_the_fixed_mode_survives_save_and_load(tmp_path):
    fg.set_seed(0)
    base = base_model()
    inputs = fg.Input(shape=(6,))
    outputs = layers.Dense(1)(base(inputs, training=False))
    model = fg.Model(inputs, outputs)
    model.compile(optimizer="sgd", loss="mse")
    path = str(tmp_path / "model.fgm")
    model.save(path)
    restored = fg.models.load_model(path)
    x, _ = data()
    np.testing.assert_allclose(
        restored(x, training=True).numpy(), restored.predict(x, verbose=0), rtol=1e-6
    )
    np.testing.assert_allclose(restored.predict(x, verbose=0), model.predict(x, verbose=0))


def test_training_must_be_a_bool_or_none_in_a_symbolic_call():
    inputs = fg.Input(shape=(3,))
    with pytest.raises(TypeError, match="training= of a symbolic call of 'drop'"):
        layers.Dropout(0.5, name="drop")(inputs, training="yes")


def test_a_frozen_batch_normalization_keeps_its_statistics_as_keras_does():
    """Keras 3: BatchNormalization with trainable=False runs in inference mode, in a model or
    called alone."""
    fg.set_seed(0)
    inputs = fg.Input(shape=(6,))
    norm = layers.BatchNormalization()
    model = fg.Model(inputs, layers.Dense(1)(norm(inputs)))
    model.compile(optimizer="sgd", loss="mse")
    x, y = data()
    model.fit(x, y, epochs=1, batch_size=16, verbose=0)
    trained = norm.get_weights()[2:]  # moving mean and variance
    norm.trainable = False
    model.compile(optimizer="sgd", loss="mse")
    model.fit(x, y, epochs=1, batch_size=16, verbose=0)
    for before, after in zip(trained, norm.get_weights()[2:], strict=True):
        np.testing.assert_array_equal(before, after)
    alone = norm(x, training=True).numpy()
    np.testing.assert_allclose(alone, norm(x, training=False).numpy(), rtol=1e-6)
    norm.trainable = True
    assert not np.allclose(norm(x, training=True).numpy(), alone)

"""The preprocessing layers of Keras 3 that run in the numeric graph: Normalization (given
statistics, ``adapt`` on arrays and on batches, ``invert``) with Keras's documented outputs,
config round trips, save/load, and bad arguments refused naming the layer."""

import numpy as np
import pytest
from gradcheck import check_gradients

import ferrograd as fg
from ferrograd import layers


def test_normalization_keras_documented_examples():
    # The examples of Keras 3's Normalization docstring, outputs included.
    layer = layers.Normalization(axis=None)
    layer.adapt(np.array([1.0, 2.0, 3.0, 4.0, 5.0], dtype="float32"))
    np.testing.assert_allclose(
        layer(np.array([1.0, 2.0, 3.0], dtype="float32")).numpy(),
        [-1.4142135, -0.70710677, 0.0],
        rtol=1e-6,
    )
    adapt_data = np.array([[0, 7, 4], [2, 9, 6], [0, 7, 4], [2, 9, 6]], dtype="float32")
    layer = layers.Normalization(axis=-1)
    layer.adapt(adapt_data)
    np.testing.assert_allclose(layer(adapt_data[:1]).numpy(), [[-1, -1, -1]], rtol=1e-6)
    mean, variance, count = layer.get_weights()
    np.testing.assert_allclose(mean, [1, 8, 5])
    np.testing.assert_allclose(variance, [1, 1, 1])
    assert mean.shape == (3,) and count == 4
    assert layer.count_params() == 7  # Keras 3: mean, variance and count
    given = layers.Normalization(mean=3.0, variance=2.0)
    np.testing.assert_allclose(
        given(np.array([[1.0], [2.0], [3.0]], "float32")).numpy(),
        [[-1.4142135], [-0.70710677], [0.0]],
        rtol=1e-6,
    )
    assert given.count_params() == 0
    inverse = layers.Normalization(axis=-1, invert=True)
    inverse.adapt(adapt_data)
    np.testing.assert_allclose(
        inverse(np.array([[1.0, 10.0, 8.0]], "float32")).numpy(), [[2, 18, 13]], rtol=1e-6
    )


def test_normalization_per_axis_statistics_and_batches(rng):
    data = rng.standard_normal((40, 3, 2)) * [[3.0, 0.5]] + [[1.0, -2.0]]
    whole = layers.Normalization(axis=(1, 2), dtype="float64")
    whole.adapt(data)
    np.testing.assert_allclose(whole.get_weights()[0], data.mean(axis=0), rtol=1e-12)
    np.testing.assert_allclose(whole.get_weights()[1], data.var(axis=0), rtol=1e-10)
    expected = (data - data.mean(axis=0)) / data.std(axis=0)
    np.testing.assert_allclose(whole(data).numpy(), expected, rtol=1e-9, atol=1e-12)
    # The same statistics from batches of a generator.
    batched = layers.Normalization(axis=(1, 2), dtype="float64")
    batched.adapt(data[i : i + 7] for i in range(0, 40, 7))
    for a, b in zip(batched.get_weights(), whole.get_weights(), strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-10)
    last = layers.Normalization(dtype="float64")
    last.adapt(data)
    np.testing.assert_allclose(last.get_weights()[0], data.mean(axis=(0, 1)), rtol=1e-12)
    check_gradients(lambda t: last(t), data[:2])


def test_normalization_in_a_model_config_and_files(tmp_path, rng):
    x = rng.standard_normal((50, 4)).astype("float32") * 10 + 3
    norm = layers.Normalization()
    norm.adapt(x)
    model = fg.Sequential([layers.Input((4,)), norm, layers.Dense(1)])
    assert model.count_params() == 4 + 4 + 1 + 5
    before = model.predict(x, verbose=0)
    model.save(tmp_path / "n.keras")
    loaded = fg.models.load_model(tmp_path / "n.keras")
    np.testing.assert_allclose(loaded.predict(x, verbose=0), before, rtol=1e-5)
    model.compile(optimizer="adam", loss="mse")
    weights = norm.get_weights()
    model.fit(x, x[:, :1], epochs=2, verbose=0)
    for a, b in zip(norm.get_weights(), weights, strict=True):  # not trained
        np.testing.assert_array_equal(a, b)
    config = layers.Normalization(axis=(1,), mean=[1.0, 2.0], variance=[4.0, 9.0]).get_config()
    assert config["mean"] == [1.0, 2.0] and config["axis"] == (1,)
    again = layers.Normalization.from_config(config)
    np.testing.assert_allclose(again(np.array([[3.0, 5.0]], "float32")).numpy(), [[1.0, 1.0]])
    given = fg.Sequential(
        [layers.Input((2,)), layers.Normalization(mean=[1.0, 2.0], variance=[4.0, 9.0])]
    )
    given.save(tmp_path / "g.keras")
    np.testing.assert_allclose(
        fg.models.load_model(tmp_path / "g.keras").predict(np.array([[3.0, 5.0]]), verbose=0),
        [[1.0, 1.0]],
    )


def test_normalization_bad_arguments_name_the_layer():
    with pytest.raises(ValueError, match="Normalization.*both mean and variance"):
        layers.Normalization(mean=1.0)
    with pytest.raises(ValueError, match="Normalization: axis"):
        layers.Normalization(axis="last")
    with pytest.raises(ValueError, match="Normalization: variance"):
        layers.Normalization(mean=0.0, variance=-1.0)
    with pytest.raises(ValueError, match="Normalization"):
        layers.Normalization(mean=[1.0, 2.0], variance=[1.0, 1.0])(np.ones((2, 3), "float32"))
    with pytest.raises(ValueError, match="Normalization.adapt"):
        layers.Normalization(mean=0.0, variance=1.0).adapt(np.ones((2, 2)))
    with pytest.raises(ValueError, match="Normalization"):
        layers.Normalization(axis=5).adapt(np.ones((4, 2)))


def test_category_encoding_keras_documented_outputs(tmp_path):
    one_hot = layers.CategoryEncoding(num_tokens=4, output_mode="one_hot")
    np.testing.assert_array_equal(one_hot(np.array([3, 2, 0, 1])).numpy(), np.eye(4)[[3, 2, 0, 1]])
    np.testing.assert_array_equal(one_hot(np.array([[3], [1]])).numpy(), np.eye(4)[[3, 1]])
    assert one_hot(np.array([[3, 1], [0, 0]])).shape == (2, 2, 4)
    ids = np.array([[0, 1], [0, 0], [1, 2], [3, 1]])
    multi = layers.CategoryEncoding(num_tokens=4)(ids).numpy()
    np.testing.assert_array_equal(multi, [[1, 1, 0, 0], [1, 0, 0, 0], [0, 1, 1, 0], [0, 1, 0, 1]])
    count = layers.CategoryEncoding(num_tokens=4, output_mode="count")(ids).numpy()
    np.testing.assert_array_equal(count, [[1, 1, 0, 0], [2, 0, 0, 0], [0, 1, 1, 0], [0, 1, 0, 1]])
    config = layers.CategoryEncoding(5, output_mode="count").get_config()
    assert layers.CategoryEncoding.from_config(config).get_config() == config
    model = fg.Sequential(
        [layers.Input((2,)), layers.CategoryEncoding(4), layers.Dense(1, use_bias=False)]
    )
    before = model.predict(ids.astype("float32"), verbose=0)
    np.testing.assert_allclose(before, multi @ model.layers[1].get_weights()[0], rtol=1e-6)
    model.save(tmp_path / "c.keras")
    np.testing.assert_allclose(
        fg.models.load_model(tmp_path / "c.keras").predict(ids.astype("float32"), verbose=0),
        before,
    )
    with pytest.raises(ValueError, match="CategoryEncoding.*num_tokens=4"):
        layers.CategoryEncoding(4)(np.array([[4, 0]]))
    with pytest.raises(ValueError, match="CategoryEncoding: output_mode"):
        layers.CategoryEncoding(4, output_mode="tf_idf")
    with pytest.raises(ValueError, match="CategoryEncoding: num_tokens"):
        layers.CategoryEncoding()
    with pytest.raises(ValueError, match="CategoryEncoding: sparse"):
        layers.CategoryEncoding(3, sparse=True)

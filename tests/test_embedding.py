"""Embedding: the lookup, the scatter-add gradient, the mask, and the errors of bad ids."""

import numpy as np
import pytest

import ferrograd as fg
from ferrograd import layers


def test_lookup_returns_the_rows_of_the_ids(rng):
    layer = layers.Embedding(12, 5)
    ids = rng.integers(0, 12, size=(3, 7))
    out = layer(ids)
    assert out.shape == (3, 7, 5) and out.numpy().dtype == np.float32
    table = layer.get_weights()[0]
    np.testing.assert_array_equal(out.numpy(), table[ids])
    assert layer.embeddings.shape == (12, 5)
    # Keras's "uniform": RandomUniform(-0.05, 0.05).
    assert np.abs(table).max() <= 0.05 and table.std() > 0.01


def test_gradient_scatter_adds_repeated_ids(rng):
    layer = layers.Embedding(6, 3, dtype="float64")
    ids = np.array([[1, 4, 1], [0, 1, 5]])
    weights = rng.standard_normal((2, 3, 3))
    (layer(ids) * fg.tensor(weights, dtype="float64")).sum().backward()
    expected = np.zeros((6, 3))
    np.add.at(expected, ids, weights)
    np.testing.assert_allclose(layer.embeddings.grad.numpy(), expected, rtol=1e-12)


def test_ids_may_come_as_floats_holding_integers():
    layer = layers.Embedding(4, 2)
    as_int = layer(np.array([[3, 0]])).numpy()
    as_float = layer(fg.tensor(np.array([[3.0, 0.0]]))).numpy()
    np.testing.assert_array_equal(as_int, as_float)


@pytest.mark.parametrize(
    ("ids", "message"),
    [
        ([[0, 10]], "token id 10 at position \\(0, 1\\)"),
        ([[-1, 2]], "token id -1"),
        ([[1.5, 2]], "must be integers, received 1.5"),
    ],
)
def test_bad_ids_are_value_errors_naming_the_id(ids, message):
    layer = layers.Embedding(10, 2)
    with pytest.raises(ValueError, match=message):
        layer(np.array(ids, dtype="float32"))


def test_bad_settings_are_refused():
    with pytest.raises(ValueError, match="input_dim"):
        layers.Embedding(0, 4)
    with pytest.raises(ValueError, match="output_dim"):
        layers.Embedding(4, -1)


def test_mask_zero_marks_padding():
    layer = layers.Embedding(5, 2, mask_zero=True)
    ids = np.array([[0, 3, 4], [1, 0, 2]])
    np.testing.assert_array_equal(layer.compute_mask(ids), ids != 0)
    assert layers.Embedding(5, 2).compute_mask(ids) is None


def test_in_a_model_with_float64_and_a_regularizer(rng):
    model = fg.Sequential(
        [
            layers.Embedding(8, 3, dtype="float64", embeddings_regularizer=fg.regularizers.l2(0.1)),
            layers.GlobalAveragePooling1D(dtype="float64"),
        ]
    )
    ids = rng.integers(0, 8, size=(4, 6))
    out = model.predict(ids, verbose=0)
    assert out.shape == (4, 3) and out.dtype == np.float64
    table = model.get_weights()[0]
    np.testing.assert_allclose(out, table[ids].mean(1), rtol=1e-12)
    (penalty,) = model.losses
    np.testing.assert_allclose(penalty.item(), 0.1 * (table**2).sum(), rtol=1e-12)

"""The walkthrough models train to the same bits as before the graph rewrite.

The hashes below were recorded on main before the architecture change ("One graph for every
model"): a refactor that changes a single bit of a trained weight fails here. A deliberate
change of the numbers (a new kernel that rounds differently) must record new hashes and say why
in its commit.
"""

import hashlib

import numpy as np
import pytest

import ferrograd as fg
from ferrograd import layers


def weights_digest(model) -> str:
    """SHA-256 of every weight's bytes, in the model's weight order, with their shapes."""
    digest = hashlib.sha256()
    for weight in model.get_weights():
        array = np.ascontiguousarray(weight)
        digest.update(str(array.shape).encode())
        digest.update(array.tobytes())
    return digest.hexdigest()


def test_mnist_mlp_with_dropout_trains_to_the_recorded_bits():
    (x_train, y_train), _ = fg.datasets.mnist.load_data()
    x = x_train.reshape(-1, 784).astype("float32") / 255.0
    y = fg.utils.to_categorical(y_train, 10)
    fg.set_seed(7)
    model = fg.Sequential(
        [
            layers.Dense(512, activation="relu", input_shape=(784,)),
            layers.Dropout(0.2),
            layers.Dense(256, activation="relu"),
            layers.Dropout(0.2),
            layers.Dense(128, activation="relu"),
            layers.Dense(10, activation="softmax"),
        ]
    )
    model.compile(optimizer="adam", loss="categorical_crossentropy", metrics=["accuracy"])
    history = model.fit(x, y, batch_size=128, epochs=3, verbose=0)
    assert history.history["accuracy"][-1] > 0.95
    assert weights_digest(model) == MNIST_MLP_DIGEST


def test_make_classification_walkthrough_trains_to_the_recorded_bits():
    sklearn_datasets = pytest.importorskip("sklearn.datasets")
    x, y = sklearn_datasets.make_classification(
        n_samples=1000, n_features=20, n_classes=2, random_state=42
    )
    x = ((x - x.mean(axis=0)) / x.std(axis=0)).astype("float32")
    fg.set_seed(3)
    model = fg.Sequential(
        [
            layers.Dense(64, activation="relu", input_shape=(20,)),
            layers.Dense(64, activation="relu"),
            layers.Dense(1, activation="sigmoid"),
        ]
    )
    model.compile(optimizer="adam", loss="binary_crossentropy", metrics=["accuracy"])
    history = model.fit(x, y, epochs=10, batch_size=32, validation_split=0.2, verbose=0)
    assert history.history["val_accuracy"][-1] > 0.8
    assert weights_digest(model) == MAKE_CLASSIFICATION_DIGEST


def token_sequences(count: int, length: int, vocabulary: int, seed: int):
    """Padded token ids and a label that depends on word order: does token 3 come before
    token 4 (both appear in every sequence)?"""
    rng = np.random.default_rng(seed)
    x = np.zeros((count, length), dtype="int64")
    y = np.zeros(count, dtype="float32")
    for row in range(count):
        size = int(rng.integers(6, length + 1))
        tokens = rng.integers(5, vocabulary, size=size)
        first, second = rng.choice(size, 2, replace=False)
        tokens[first], tokens[second] = 3, 4
        x[row, length - size :] = tokens
        y[row] = float(first < second)
    return x, y


def test_embedding_lstm_text_model_trains_to_the_recorded_bits():
    x, y = token_sequences(count=512, length=20, vocabulary=200, seed=11)
    fg.set_seed(5)
    model = fg.Sequential(
        [
            layers.Embedding(200, 16, mask_zero=True, input_shape=(20,)),
            layers.LSTM(16, return_sequences=True),
            layers.Dropout(0.2),
            layers.LSTM(16),
            layers.Dense(1, activation="sigmoid"),
        ]
    )
    model.compile(optimizer="adam", loss="binary_crossentropy", metrics=["accuracy"])
    history = model.fit(x, y, epochs=3, batch_size=32, verbose=0)
    assert np.isfinite(history.history["loss"]).all()
    assert weights_digest(model) == TEXT_LSTM_DIGEST


# Recorded on main at df64ad1, before the graph rewrite.
MNIST_MLP_DIGEST = "ab2e0c514e79b2545a7c73291b6bb035e92bdb53fc3840cc6acabfbbf40083c6"
MAKE_CLASSIFICATION_DIGEST = "05054e168df95579e6f6257ff80169c96ade06a25a918fbca122b8da9a92cde6"
TEXT_LSTM_DIGEST = "12c34a502a570785b30f3b4ac89ab4dd5e5f81ccdc42b5757a57a38f58d2aaeb"

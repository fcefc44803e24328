"""TensorFlow's tutorial "Basic regression: Predict fuel efficiency" (tensorflow docs
site/en/tutorials/keras/regression.ipynb), written with only the import changed
(``import ferrograd as keras``, ``from ferrograd import layers``) and scikit-learn's diabetes
data (442 patients, 10 features, a disease-progression score) in place of the downloaded Auto
MPG data, with the body-mass index in the role of the horsepower. The score is given in tens
(2.5 to 34.6), the scale of the tutorial's miles per gallon (9 to 47), so that the tutorial's
learning rates and epochs fit it.

The tutorial standardizes its features with a ``layers.Normalization`` layer; the tests that
use that layer are marked as waiting for it, and the others standardize with numpy (the same
arithmetic) so that the models, their training and their evaluation run today. They assert
what the tutorial shows: parameter counts, the History keys, errors well below those of
predicting the mean, and equal results after a save and a load.
"""

import numpy as np
import pytest

import ferrograd as keras
from ferrograd import layers

# scikit-learn is in the test extra; without it, this tutorial is skipped, not an error.
load_diabetes = pytest.importorskip("sklearn.datasets").load_diabetes


@pytest.fixture(scope="module")
def data():
    diabetes = load_diabetes(as_frame=False)
    features = diabetes.data.astype("float32")
    labels = (diabetes.target / 10).astype("float32")
    # Split the data into training and test sets (80% / 20%, shuffled with a fixed seed).
    order = np.random.default_rng(0).permutation(len(labels))
    cut = int(0.8 * len(labels))
    train, test = order[:cut], order[cut:]
    return features[train], labels[train], features[test], labels[test]


def standardize(train_features, *others):
    """What ``Normalization.adapt`` + the layer compute: (x - mean) / std of the training data."""
    mean, std = train_features.mean(axis=0), train_features.std(axis=0)
    return [(x - mean) / std for x in (train_features, *others)]


BMI = 2  # The column of the body-mass index.


def mean_baseline(train_labels, test_labels):
    """The test error of predicting the mean training label."""
    return float(np.mean(np.abs(test_labels - train_labels.mean())))


def least_squares_error(x_train, y_train, x_test, y_test):
    """The test error of the least-squares line (numpy's lstsq): what a linear model reaches."""
    design = np.c_[x_train, np.ones(len(x_train))]
    weights, *_ = np.linalg.lstsq(design, y_train, rcond=None)
    return float(np.mean(np.abs(np.c_[x_test, np.ones(len(x_test))] @ weights - y_test)))


def test_linear_regression_with_one_variable(data):
    train_features, train_labels, test_features, test_labels = data
    # One column, as the tutorial's train_features["Horsepower"]: a 1-D array.
    bmi, test_bmi = standardize(train_features[:, BMI], test_features[:, BMI])
    assert bmi.shape == (len(train_labels),)

    bmi_model = keras.Sequential([layers.Dense(units=1, input_shape=(1,))])
    assert bmi_model.count_params() == 2
    assert bmi_model.predict(bmi[:10], verbose=0).shape == (10, 1)

    bmi_model.compile(
        optimizer=keras.optimizers.Adam(learning_rate=0.1), loss="mean_absolute_error"
    )
    history = bmi_model.fit(bmi, train_labels, epochs=100, verbose=0, validation_split=0.2)
    assert set(history.history) == {"loss", "val_loss"}
    assert len(history.history["loss"]) == 100
    assert history.epoch == list(range(100))  # the tutorial's hist["epoch"] column
    mae = bmi_model.evaluate(test_bmi, test_labels, verbose=0)
    assert mae < mean_baseline(train_labels, test_labels)
    assert mae < 1.1 * least_squares_error(bmi, train_labels, test_bmi, test_labels)

    # The tutorial's plot of the fitted line: predictions along a range of the input.
    x = np.linspace(-3.0, 3.0, 251)
    y = bmi_model.predict(x, verbose=0)
    assert y.shape == (251, 1)
    slope = np.diff(y[:, 0])
    assert (slope > 0).all() and np.allclose(slope, slope[0], rtol=1e-3)  # a rising line


def build_and_compile_model(norm=None):
    model = keras.Sequential(
        ([norm] if norm is not None else [])
        + [
            layers.Dense(64, activation="relu"),
            layers.Dense(64, activation="relu"),
            layers.Dense(1),
        ]
    )
    model.compile(loss="mean_absolute_error", optimizer=keras.optimizers.Adam(0.001))
    return model


def test_linear_regression_with_multiple_inputs(data):
    train_features, train_labels, test_features, test_labels = data
    x_train, x_test = standardize(train_features, test_features)
    linear_model = keras.Sequential([layers.Dense(units=1)])
    assert linear_model.predict(x_train[:10], verbose=0).shape == (10, 1)
    assert tuple(linear_model.layers[0].kernel.shape) == (10, 1)
    linear_model.compile(
        optimizer=keras.optimizers.Adam(learning_rate=0.1), loss="mean_absolute_error"
    )
    history = linear_model.fit(x_train, train_labels, epochs=100, verbose=0, validation_split=0.2)
    assert history.history["loss"][-1] < history.history["loss"][0]
    mae = linear_model.evaluate(x_test, test_labels, verbose=0)
    assert mae < 0.8 * mean_baseline(train_labels, test_labels)
    assert mae < 1.1 * least_squares_error(x_train, train_labels, x_test, test_labels)


def test_regression_with_a_deep_neural_network_then_save_and_reload(data, tmp_path):
    train_features, train_labels, test_features, test_labels = data
    x_train, x_test = standardize(train_features, test_features)
    dnn_model = build_and_compile_model()
    dnn_model.build((None, 10))
    lines = []
    dnn_model.summary(print_fn=lines.append)
    assert "Total params: 4,929" in "\n".join(lines)  # 704 + 4,160 + 65

    history = dnn_model.fit(x_train, train_labels, validation_split=0.2, verbose=0, epochs=100)
    assert set(history.history) == {"loss", "val_loss"}
    test_results = {"dnn_model": dnn_model.evaluate(x_test, test_labels, verbose=0)}
    assert test_results["dnn_model"] < 0.8 * mean_baseline(train_labels, test_labels)

    # Make predictions
    test_predictions = dnn_model.predict(x_test, verbose=0).flatten()
    assert test_predictions.shape == test_labels.shape
    assert 2.5 < np.median(test_predictions) < 34.6

    dnn_model.save(tmp_path / "dnn_model.keras")
    reloaded = keras.models.load_model(tmp_path / "dnn_model.keras")
    assert reloaded.evaluate(x_test, test_labels, verbose=0) == pytest.approx(
        test_results["dnn_model"], rel=1e-6
    )
    np.testing.assert_array_equal(reloaded.predict(x_test, verbose=0).flatten(), test_predictions)


def test_the_normalization_layer(data):
    train_features = data[0]
    normalizer = layers.Normalization(axis=-1)
    normalizer.adapt(np.array(train_features))
    np.testing.assert_allclose(
        np.asarray(normalizer.mean).reshape(-1), train_features.mean(axis=0), rtol=1e-4, atol=1e-6
    )
    first = np.array(train_features[:1])
    expected = (first - train_features.mean(axis=0)) / train_features.std(axis=0)
    np.testing.assert_allclose(np.asarray(normalizer(first)), expected, rtol=1e-3, atol=1e-4)


def test_the_tutorial_models_with_their_normalization_layers(data, tmp_path):
    train_features, train_labels, test_features, test_labels = data
    bmi = np.array(train_features[:, BMI])
    bmi_normalizer = layers.Normalization(input_shape=[1], axis=None)
    bmi_normalizer.adapt(bmi)
    bmi_model = keras.Sequential([bmi_normalizer, layers.Dense(units=1)])
    bmi_model.compile(
        optimizer=keras.optimizers.Adam(learning_rate=0.1), loss="mean_absolute_error"
    )
    bmi_model.fit(bmi, train_labels, epochs=100, verbose=0, validation_split=0.2)

    normalizer = layers.Normalization(axis=-1)
    normalizer.adapt(np.array(train_features))
    linear_model = keras.Sequential([normalizer, layers.Dense(units=1)])
    linear_model.compile(
        optimizer=keras.optimizers.Adam(learning_rate=0.1), loss="mean_absolute_error"
    )
    linear_model.fit(train_features, train_labels, epochs=100, verbose=0, validation_split=0.2)

    dnn_model = build_and_compile_model(normalizer)
    dnn_model.fit(train_features, train_labels, validation_split=0.2, verbose=0, epochs=100)
    mae = dnn_model.evaluate(test_features, test_labels, verbose=0)
    assert mae < 0.8 * mean_baseline(train_labels, test_labels)
    dnn_model.save(tmp_path / "dnn_model.keras")
    reloaded = keras.models.load_model(tmp_path / "dnn_model.keras")
    assert reloaded.evaluate(test_features, test_labels, verbose=0) == pytest.approx(mae, rel=1e-6)

"""Metrics against scikit-learn and a numpy version of Keras's AUC."""

import numpy as np
import pytest
from sklearn.metrics import accuracy_score, precision_score, recall_score, roc_auc_score

import ferrograd as fg
from ferrograd import metrics
from ferrograd.errors import ShapeError


def keras_auc(y_true, y_pred, num_thresholds=200, curve="ROC"):
    """Keras's AUC by its definition: confusion counts at each threshold (no buckets)."""
    eps = 1e-7
    inner = [(i + 1) / (num_thresholds - 1) for i in range(num_thresholds - 2)]
    thresholds = np.array([-eps, *inner, 1 + eps])
    positive = np.asarray(y_true).ravel() != 0
    pred = np.clip(np.asarray(y_pred, dtype=np.float64).ravel(), 0, 1)
    predicted = pred[None, :] > thresholds[:, None]
    tp = (predicted & positive).sum(axis=1).astype(float)
    fp = (predicted & ~positive).sum(axis=1).astype(float)
    fn = positive.sum() - tp
    tn = (~positive).sum() - fp

    def div(a, b):
        return np.divide(a, b, out=np.zeros_like(a), where=b != 0)

    if curve == "ROC":
        recall = div(tp, tp + fn)
        fpr = div(fp, fp + tn)
        return float(((fpr[:-1] - fpr[1:]) * (recall[:-1] + recall[1:]) / 2).sum())
    dtp = tp[:-1] - tp[1:]
    p = tp + fp
    slope = div(dtp, np.maximum(p[:-1] - p[1:], 0))
    intercept = tp[1:] - slope * p[1:]
    both = (p[:-1] > 0) & (p[1:] > 0)
    ratio = np.where(both, div(p[:-1], np.maximum(p[1:], 0)), 1.0)
    increments = div(slope * (dtp + intercept * np.log(ratio)), np.maximum(tp[1:] + fn[1:], 0))
    return float(increments.sum())


def binary_data(rng, n=300):
    y = rng.integers(0, 2, size=n).astype(np.float64)
    # Informative but noisy scores.
    p = 1 / (1 + np.exp(-(2 * y - 1 + rng.normal(0, 1.2, size=n))))
    return y, p


@pytest.mark.parametrize("threshold", [0.5, 0.3, 0.8])
def test_binary_accuracy_precision_recall_match_sklearn(threshold, rng):
    y, p = binary_data(rng)
    hard = (p > threshold).astype(int)
    m = metrics.BinaryAccuracy(threshold=threshold)
    m.update_state(y, p[:, None])
    assert m.result() == pytest.approx(accuracy_score(y, hard), abs=1e-12)
    m = metrics.Precision(thresholds=threshold)
    m.update_state(y, p)
    assert m.result() == pytest.approx(precision_score(y, hard), abs=1e-12)
    m = metrics.Recall(thresholds=[threshold])
    m.update_state(y[:, None], p[:, None])
    assert m.result() == pytest.approx(recall_score(y, hard), abs=1e-12)


def test_categorical_and_sparse_accuracy_match_sklearn(rng):
    labels = rng.integers(0, 5, size=200)
    logits = rng.normal(size=(200, 5)) + 1.5 * np.eye(5)[labels]
    probs = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
    expected = accuracy_score(labels, probs.argmax(axis=1))
    m = metrics.CategoricalAccuracy()
    m.update_state(np.eye(5)[labels], probs)
    assert m.result() == pytest.approx(expected, abs=1e-12)
    for y in (labels, labels[:, None], labels.astype(np.float32)):
        m = metrics.SparseCategoricalAccuracy()
        m.update_state(y, fg.tensor(probs))
        assert m.result() == pytest.approx(expected, abs=1e-12)


@pytest.mark.parametrize("curve", ["ROC", "PR"])
@pytest.mark.parametrize("num_thresholds", [200, 37])
def test_auc_matches_the_keras_definition(curve, num_thresholds, rng):
    y, p = binary_data(rng, 500)
    m = metrics.AUC(num_thresholds=num_thresholds, curve=curve)
    m.update_state(y, p)
    assert m.result() == pytest.approx(keras_auc(y, p, num_thresholds, curve), abs=1e-12)


def test_auc_is_close_to_sklearn(rng):
    y, p = binary_data(rng, 2000)
    m = metrics.AUC()
    m.update_state(y, p)
    assert m.result() == pytest.approx(roc_auc_score(y, p), abs=1e-2)
    # Predictions outside [0, 1] are clipped, as in Keras.
    m = metrics.AUC()
    m.update_state([0, 1, 0, 1], [-0.5, 1.5, 0.2, 0.9])
    assert m.result() == pytest.approx(keras_auc([0, 1, 0, 1], [-0.5, 1.5, 0.2, 0.9]))


def test_mean_errors_match_numpy(rng):
    y = rng.normal(size=(30, 4))
    p = rng.normal(size=(30, 4))
    m = metrics.MeanSquaredError()
    m.update_state(y, p)
    assert m.result() == pytest.approx(((y - p) ** 2).mean(), rel=1e-12)
    m = metrics.MeanAbsoluteError()
    m.update_state(y, fg.tensor(p, dtype="float64"))
    assert m.result() == pytest.approx(np.abs(y - p).mean(), rel=1e-12)


def make_metrics():
    return [
        (metrics.BinaryAccuracy(threshold=0.4), "binary"),
        (metrics.Precision(), "binary"),
        (metrics.Recall(thresholds=0.3), "binary"),
        (metrics.AUC(), "binary"),
        (metrics.AUC(curve="PR", num_thresholds=50), "binary"),
        (metrics.CategoricalAccuracy(), "onehot"),
        (metrics.SparseCategoricalAccuracy(), "sparse"),
        (metrics.MeanSquaredError(), "regression"),
        (metrics.MeanAbsoluteError(), "regression"),
    ]


def data_for(kind, rng, n=100):
    if kind == "binary":
        y, p = binary_data(rng, n)
        return y[:, None], p[:, None]
    if kind in ("onehot", "sparse"):
        labels = rng.integers(0, 4, size=n)
        p = rng.dirichlet(np.ones(4), size=n)
        return (np.eye(4)[labels] if kind == "onehot" else labels), p
    return rng.normal(size=(n, 3)), rng.normal(size=(n, 3))


@pytest.mark.parametrize("index", range(len(make_metrics())))
def test_streaming_equals_all_at_once_and_reset(index, rng):
    metric, kind = make_metrics()[index]
    y, p = data_for(kind, rng)
    metric.update_state(y, p)
    all_at_once = metric.result()
    metric.reset_state()
    assert metric.result() == 0.0
    for start in range(0, 100, 32):
        metric.update_state(y[start : start + 32], p[start : start + 32])
    assert metric.result() == pytest.approx(all_at_once, abs=1e-12)
    metric.reset_state()
    metric.update_state(y, p)
    assert metric.result() == pytest.approx(all_at_once, abs=1e-12)
    assert metric(y, p) == pytest.approx(all_at_once, abs=1e-12)


def test_resolve_accuracy_follows_keras():
    cases = [
        ((32, 1), (32, 1), "binary_accuracy"),
        ((32,), (32, 1), "binary_accuracy"),
        ((32,), (32, 10), "sparse_categorical_accuracy"),
        ((32, 1), (32, 10), "sparse_categorical_accuracy"),
        ((8, 20), (8, 20, 50), "sparse_categorical_accuracy"),
        ((32, 10), (32, 10), "categorical_accuracy"),
    ]
    for y_shape, p_shape, expected in cases:
        assert fg._core.resolve_accuracy(list(y_shape), list(p_shape)) == expected
        assert metrics.resolve_accuracy(y_shape, p_shape) == expected
        for identifier in ("accuracy", "acc"):
            metric = metrics.get(identifier, y_shape, p_shape)
            assert metric._core.name == expected
            assert metric.name == identifier  # the log keeps the user's name
    # Multi-label outputs with binary cross-entropy are binary (as in tf.keras).
    assert metrics.resolve_accuracy((4, 5), (4, 5), loss="bce") == "binary_accuracy"
    assert metrics.resolve_accuracy((4, 5), (4, 5), loss="mse") == "categorical_accuracy"
    with pytest.raises(ValueError, match="shapes"):
        metrics.get("accuracy")


def test_get_aliases_and_configs():
    expected = {
        "binary_accuracy": metrics.BinaryAccuracy,
        "categorical_accuracy": metrics.CategoricalAccuracy,
        "sparse_categorical_accuracy": metrics.SparseCategoricalAccuracy,
        "precision": metrics.Precision,
        "recall": metrics.Recall,
        "auc": metrics.AUC,
        "mse": metrics.MeanSquaredError,
        "mean_squared_error": metrics.MeanSquaredError,
        "mae": metrics.MeanAbsoluteError,
        "mean_absolute_error": metrics.MeanAbsoluteError,
    }
    for name, cls in expected.items():
        metric = metrics.get(name)
        assert type(metric) is cls
        assert metric.name == name
        again = metrics.deserialize(metrics.serialize(metric))
        assert type(again) is cls and again.name == name
        assert again.get_config() == metric.get_config()
    assert metrics.BinaryAccuracy().name == "binary_accuracy"
    assert metrics.AUC().name == "auc"
    assert metrics.Precision(name="p").get_config() == {"name": "p", "thresholds": 0.5}
    assert metrics.AUC(curve="pr").get_config() == {
        "name": "auc",
        "num_thresholds": 200,
        "curve": "PR",
        "summation_method": "interpolation",
    }
    auc = metrics.get({"name": "auc", "curve": "PR", "num_thresholds": 10})
    assert isinstance(auc, metrics.AUC) and auc.get_config()["num_thresholds"] == 10
    assert isinstance(metrics.get("AUC"), metrics.AUC) and metrics.get("AUC").name == "AUC"
    assert metrics.get("Accuracy", (4,), (4, 1)).name == "Accuracy"
    instance = metrics.Recall()
    assert metrics.get(instance) is instance
    assert metrics.get(None) is None
    with pytest.raises(ValueError, match=r"f1.*auc"):
        metrics.get("f1")
    with pytest.raises(ValueError, match="cannot interpret"):
        metrics.get(3)


def test_bad_parameters_are_refused():
    for bad in (-0.1, 1.5, float("nan")):
        with pytest.raises(ValueError, match="threshold"):
            metrics.BinaryAccuracy(threshold=bad)
        with pytest.raises(ValueError, match="threshold"):
            metrics.Precision(thresholds=bad)
        with pytest.raises(ValueError, match="threshold"):
            metrics.Recall(thresholds=bad)
    with pytest.raises(ValueError, match="single threshold"):
        metrics.Precision(thresholds=[0.3, 0.6])
    for bad in (1, 0, -5, 2.5, True):
        with pytest.raises(ValueError, match="num_thresholds"):
            metrics.AUC(num_thresholds=bad)
    with pytest.raises(ValueError, match="curve"):
        metrics.AUC(curve="PRGAIN")
    with pytest.raises(ValueError, match="summation_method"):
        metrics.AUC(summation_method="minoring")
    with pytest.raises(ValueError, match="num_thresholds"):
        metrics.get({"name": "auc", "num_thresholds": 1})


def test_shape_mismatches_are_shape_errors():
    m = metrics.CategoricalAccuracy()
    with pytest.raises(ShapeError, match=r"\[4, 3\].*\[4, 2\]"):
        m.update_state(np.zeros((4, 3)), np.zeros((4, 2)))
    m = metrics.SparseCategoricalAccuracy()
    with pytest.raises(ShapeError):
        m.update_state(np.zeros(5), np.zeros((4, 2)))
    m = metrics.Precision()
    with pytest.raises(ShapeError):
        m.update_state(np.zeros(5), np.zeros(4))
    assert m.result() == 0.0


def test_each_metric_is_one_module_registered_under_its_core_name():
    import importlib

    from ferrograd import _core

    classes = metrics.Metric._classes
    assert sorted(classes) == [
        "auc",
        "binary_accuracy",
        "categorical_accuracy",
        "f1_score",
        "mean_absolute_error",
        "mean_absolute_percentage_error",
        "mean_squared_error",
        "mean_squared_logarithmic_error",
        "precision",
        "r2_score",
        "recall",
        "sparse_categorical_accuracy",
        "sparse_top_k_categorical_accuracy",
        "top_k_categorical_accuracy",
    ]
    for name, cls in classes.items():
        assert cls.__module__ == f"ferrograd.metrics.{name}"
        assert getattr(metrics, cls.__name__) is cls and cls.__name__ in metrics.__all__
        assert _core.Metric.from_name(name).name == name
        assert type(metrics.get(name)) is cls
        assert type(metrics.deserialize(metrics.serialize(cls()))) is cls
        importlib.import_module(cls.__module__)
    for alias, name in metrics.Metric._aliases.items():
        assert type(metrics.get(alias)) is classes[name] and metrics.get(alias).name == alias


def test_docstring_examples_run():
    import doctest
    import importlib

    names = ["metric", "threshold", "resolve_accuracy"]
    modules = [metrics, *(importlib.import_module(f"ferrograd.metrics.{n}") for n in names)]
    modules += [importlib.import_module(cls.__module__) for cls in metrics.Metric._classes.values()]
    for module in modules:
        result = doctest.testmod(module, extraglobs={"fg": fg})
        assert result.failed == 0, module.__name__


@pytest.mark.parametrize("name", ["MeanAbsolutePercentageError", "MeanSquaredLogarithmicError"])
def test_the_percentage_and_logarithmic_errors_equal_keras_on_streamed_batches(name):
    keras = pytest.importorskip("keras")
    rng = np.random.default_rng(5)
    ours, theirs = getattr(metrics, name)(), getattr(keras.metrics, name)()
    for _ in range(3):
        y_true = rng.uniform(-0.5, 2.0, size=(7, 3)).astype("float32")
        y_true[0, 0] = 0.0  # the fuzz factor's case
        y_pred = rng.uniform(-0.5, 2.0, size=(7, 3)).astype("float32")
        ours.update_state(y_true, y_pred)
        theirs.update_state(y_true, y_pred)
    expected = float(keras.ops.convert_to_numpy(theirs.result()))
    assert ours.result() == pytest.approx(expected, rel=1e-5)

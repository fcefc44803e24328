"""Models and ``ferrograd.sklearn`` estimators across processes: pickle round trips (through the
model file's bytes), ``GridSearchCV`` on joblib's process backend and on a Dask cluster, and
the share of the cores a worker process takes."""

import copy
import multiprocessing
import os
import pickle

import joblib
import numpy as np
import pytest
from sklearn.datasets import make_classification
from sklearn.model_selection import GridSearchCV

import ferrograd as fg
from ferrograd import layers
from ferrograd._environment import worker_thread_count
from ferrograd.sklearn import Classifier, Regressor

RNG = np.random.default_rng(0)
X = RNG.normal(size=(48, 5)).astype("float32")
Y = RNG.normal(size=(48, 2)).astype("float32")


def mlp():
    return fg.Sequential(
        [layers.Dense(8, activation="relu"), layers.Dropout(0.2), layers.Dense(2, name="out")]
    )


def two_outputs():
    inputs = fg.Input((5,))
    hidden = layers.Dense(6, activation="tanh")(inputs)
    return fg.Model(inputs, [layers.Dense(2, name="a")(hidden), layers.Dense(1, name="b")(hidden)])


def round_trip(model):
    return pickle.loads(pickle.dumps(model))


def assert_same_weights(first, second):
    for a, b in zip(first.get_weights(), second.get_weights(), strict=True):
        np.testing.assert_array_equal(a, b)


class TestPickle:
    def test_an_unbuilt_sequential_keeps_its_layers_and_compile_settings(self):
        model = mlp()
        model.compile(optimizer=fg.optimizers.Adam(0.02), loss="mse", metrics=["mae"])
        restored = round_trip(model)
        assert not restored.built and restored.compiled
        assert [layer.name for layer in restored.layers] == [layer.name for layer in model.layers]
        assert restored.optimizer.learning_rate == pytest.approx(0.02)
        fg.set_seed(4)
        model.fit(X, Y, epochs=1, verbose=0)
        fg.set_seed(4)
        restored.fit(X, Y, epochs=1, verbose=0)
        assert_same_weights(model, restored)

    def test_a_built_model_not_compiled_predicts_the_same(self):
        model = mlp()
        model.build((None, 5))
        restored = round_trip(model)
        assert restored.built and not restored.compiled
        np.testing.assert_array_equal(restored.predict(X, verbose=0), model.predict(X, verbose=0))

    @pytest.mark.parametrize("optimizer", ["adam", "sgd_momentum", "rmsprop"])
    def test_a_trained_model_continues_training_identically(self, optimizer):
        model = mlp()
        chosen = {
            "adam": fg.optimizers.Adam(0.01),
            "sgd_momentum": fg.optimizers.SGD(0.05, momentum=0.9),
            "rmsprop": fg.optimizers.RMSprop(0.01),
        }[optimizer]
        model.compile(optimizer=chosen, loss="mse", metrics=["mae"])
        model.fit(X, Y, epochs=2, batch_size=16, verbose=0)
        for restored in (round_trip(model), copy.deepcopy(model)):
            assert restored.optimizer.iterations == model.optimizer.iterations == 6
            np.testing.assert_array_equal(
                restored.predict(X, verbose=0), model.predict(X, verbose=0)
            )
        restored = round_trip(model)
        fg.set_seed(9)
        expected = model.fit(X, Y, epochs=2, batch_size=16, verbose=0).history
        fg.set_seed(9)
        resumed = restored.fit(X, Y, epochs=2, batch_size=16, verbose=0).history
        assert resumed == expected  # the optimizer's slots came along: the same steps follow
        assert_same_weights(model, restored)

    def test_a_functional_model_of_two_outputs_keeps_losses_weights_and_metrics(self):
        model = two_outputs()
        model.compile(
            optimizer=fg.optimizers.Adam(0.01),
            loss=["mse", fg.losses.Huber(delta=0.5)],
            loss_weights=[1.0, 0.25],
            metrics=[["mae"], [fg.metrics.MeanSquaredError()]],
        )
        targets = [Y, Y[:, :1]]
        model.fit(X, targets, epochs=1, verbose=0)
        restored = round_trip(model)
        assert restored.loss_weights == [1.0, 0.25]
        assert restored.loss[1].get_config()["delta"] == 0.5
        for a, b in zip(restored.predict(X, verbose=0), model.predict(X, verbose=0), strict=True):
            np.testing.assert_array_equal(a, b)
        fg.set_seed(2)
        expected = model.fit(X, targets, epochs=1, verbose=0).history
        fg.set_seed(2)
        assert restored.fit(X, targets, epochs=1, verbose=0).history == expected
        assert sorted(expected) == ["a_loss", "a_mae", "b_loss", "b_mean_squared_error", "loss"]

    def test_the_bytes_hold_no_python_objects(self):
        model = mlp()
        model.compile(optimizer="adam", loss="mse")
        model.fit(X, Y, epochs=1, verbose=0)
        data = pickle.dumps(model)
        # The model file's bytes, rebuilt by one function of ferrograd.saving: no Rust pointer,
        # no layer object is pickled.
        assert b"model_from_bytes" in data and b"_core" not in data

    def test_estimators_pickle_before_and_after_fitting(self):
        X_class, y_class = make_classification(80, 5, random_state=0)
        template = fg.Sequential([layers.Dense(4, activation="relu"), layers.Dense(1)])
        for estimator in (
            Classifier(build_classifier, epochs=2, random_state=1),
            Regressor(template, epochs=2, random_state=1, loss="mse"),
        ):
            unfitted = round_trip(estimator)
            assert unfitted.get_params()["epochs"] == 2
            target = y_class if isinstance(estimator, Classifier) else X_class[:, :1] * 2.0
            estimator.fit(X_class, target)
            unfitted.fit(X_class, target)
            restored = round_trip(estimator)
            np.testing.assert_array_equal(restored.predict(X_class), estimator.predict(X_class))
            np.testing.assert_array_equal(unfitted.predict(X_class), estimator.predict(X_class))
            assert restored.history_ == estimator.history_


def build_classifier(units=8, n_features_in_=None, n_classes_=None):
    return fg.Sequential(
        [
            layers.Dense(units, activation="relu", input_shape=(n_features_in_,)),
            layers.Dense(1, activation="sigmoid"),
        ]
    )


def search_data():
    return make_classification(90, 5, n_informative=3, random_state=3)


def make_search(n_jobs=None):
    # Defined here, not at module level, so that cloudpickle sends the function by value: a
    # Dask worker cannot import this test module.
    def build(units=8, n_features_in_=None):
        return fg.Sequential(
            [
                layers.Dense(units, activation="relu", input_shape=(n_features_in_,)),
                layers.Dense(1, activation="sigmoid"),
            ]
        )

    classifier = Classifier(build, epochs=3, batch_size=16, random_state=0)
    grid = {"model__units": [2, 16], "optimizer__learning_rate": [0.001, 0.05]}
    return GridSearchCV(classifier, grid, cv=3, n_jobs=n_jobs)


def assert_same_search(first, second):
    assert first.best_params_ == second.best_params_
    np.testing.assert_array_equal(
        first.cv_results_["mean_test_score"], second.cv_results_["mean_test_score"]
    )
    np.testing.assert_array_equal(
        first.best_estimator_.predict_proba(search_data()[0]),
        second.best_estimator_.predict_proba(search_data()[0]),
    )


@pytest.fixture(scope="module")
def one_process_search():
    return make_search(n_jobs=1).fit(*search_data())


def test_grid_search_on_two_loky_processes_equals_one_process(one_process_search):
    with joblib.parallel_backend("loky"):
        search = make_search(n_jobs=2).fit(*search_data())
    assert_same_search(search, one_process_search)
    # The scores differ between settings: the comparison above can fail.
    assert len(set(search.cv_results_["mean_test_score"])) > 1


def threads_in_worker(_):
    return fg.get_num_threads()


def test_a_loky_worker_takes_its_share_of_the_cores():
    cores = joblib.cpu_count()
    counts = joblib.Parallel(n_jobs=2, backend="loky")(
        joblib.delayed(threads_in_worker)(i) for i in range(4)
    )
    expected = int(os.environ.get("OMP_NUM_THREADS", max(cores // 2, 1)))
    assert counts == [expected] * 4


def test_a_spawned_multiprocessing_worker_takes_at_most_its_share():
    cores = fg.get_num_threads()
    with multiprocessing.get_context("spawn").Pool(2) as pool:
        counts = pool.map(threads_in_worker, range(2))
    if "OMP_NUM_THREADS" not in os.environ and "FERROGRAD_NUM_THREADS" not in os.environ:
        # Other children of this process (loky's idle workers) count as siblings too.
        assert all(1 <= count <= max(cores // 2, 1) for count in counts), counts


def test_worker_thread_count_follows_the_variables(monkeypatch):
    monkeypatch.delenv("FERROGRAD_NUM_THREADS", raising=False)
    monkeypatch.setenv("OMP_NUM_THREADS", "3")
    assert worker_thread_count(8) == 3
    monkeypatch.setenv("OMP_NUM_THREADS", "none")
    assert worker_thread_count(8) is None  # not a worker: the default stands
    monkeypatch.setenv("FERROGRAD_NUM_THREADS", "5")
    monkeypatch.setenv("OMP_NUM_THREADS", "1")
    assert worker_thread_count(8) is None  # the user's own setting wins


def test_grid_search_on_a_dask_cluster_equals_one_process(one_process_search):
    distributed = pytest.importorskip("distributed")
    cluster = distributed.LocalCluster(
        n_workers=2,
        threads_per_worker=1,
        processes=True,
        host="127.0.0.1",
        dashboard_address=None,
    )
    try:
        with distributed.Client(cluster, timeout=30) as client:
            # Dask's nanny sets OMP_NUM_THREADS=1 in its workers: one thread each.
            assert set(client.run(fg.get_num_threads).values()) == {1}
            with joblib.parallel_backend("dask"):
                search = make_search(n_jobs=-1).fit(*search_data())
    finally:
        cluster.close(timeout=30)
    assert_same_search(search, one_process_search)

"""``ferrograd.sklearn``: scikit-learn's own estimator checks, and the wrappers at work in
pipelines and searches."""

import pickle

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.datasets import make_classification
from sklearn.model_selection import GridSearchCV, cross_val_score, train_test_split
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.utils.estimator_checks import parametrize_with_checks

import ferrograd as fg
from ferrograd import layers
from ferrograd.sklearn import Classifier, Regressor


def build_classifier(units=16, n_features_in_=None, n_classes_=None):
    """A small MLP: one sigmoid output for two classes, a softmax over more."""
    head = (
        layers.Dense(1, activation="sigmoid")
        if n_classes_ <= 2
        else layers.Dense(n_classes_, activation="softmax")
    )
    return fg.Sequential(
        [layers.Dense(units, activation="relu", input_shape=(n_features_in_,)), head]
    )


def build_regressor(units=16, meta=None):
    return fg.Sequential(
        [
            layers.Dense(units, activation="relu", input_shape=(meta["n_features_in_"],)),
            layers.Dense(meta["n_outputs_"]),
        ]
    )


# scikit-learn's checks train on a few hundred samples: 40 epochs of Adam at 0.02 is what the
# small MLP needs for check_classifiers_train's accuracy bar, and keeps all the checks well
# under a minute.
CHECKED = [
    Classifier(build_classifier, epochs=40, optimizer__learning_rate=0.02, random_state=0),
    Regressor(build_regressor, epochs=40, optimizer__learning_rate=0.02, random_state=0),
]


# Every check applies and passes: none is listed in expected_failed_checks.
@parametrize_with_checks(CHECKED)
def test_scikit_learn_estimator_checks(estimator, check):
    check(estimator)


def test_grid_search_over_a_pipeline_finds_a_good_classifier():
    X, y = make_classification(1000, 20, random_state=42)
    X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.25, random_state=0)
    pipeline = Pipeline(
        [
            ("scale", StandardScaler()),
            ("net", Classifier(build_classifier, epochs=15, batch_size=32, random_state=0)),
        ]
    )
    search = GridSearchCV(
        pipeline,
        {"net__model__units": [4, 32], "net__optimizer__learning_rate": [1e-4, 1e-2]},
        cv=3,
    )
    search.fit(X_train, y_train)
    assert search.best_params_["net__optimizer__learning_rate"] == 1e-2
    # A logistic regression scores about 0.86 on this task; the MLP must match it.
    assert search.best_score_ > 0.85
    assert search.score(X_test, y_test) > 0.85
    probabilities = search.predict_proba(X_test)
    assert probabilities.shape == (250, 2)
    np.testing.assert_allclose(probabilities.sum(axis=1), 1.0, atol=1e-6)


def test_cross_val_score_with_a_model_object_and_string_labels():
    X, y = make_classification(300, 6, n_informative=4, n_classes=3, random_state=1)
    labels = np.array(["ant", "bee", "cat"])[y]
    model = fg.Sequential(
        [
            layers.Dense(16, activation="relu", input_shape=(6,)),
            layers.Dense(3, activation="softmax"),
        ]
    )
    untouched = model.get_weights()
    clf = Classifier(model, epochs=30, optimizer__learning_rate=0.01, random_state=0)
    scores = cross_val_score(clf, X, labels, cv=3)
    assert scores.mean() > 0.7
    clf.fit(X, labels)
    assert list(clf.classes_) == ["ant", "bee", "cat"]
    assert set(clf.predict(X)) <= {"ant", "bee", "cat"}
    assert clf.score(X, labels) > 0.75
    assert clf.model_ is not model  # a fresh copy per fit; the given model is left as it was
    for before, after in zip(untouched, model.get_weights(), strict=True):
        np.testing.assert_array_equal(before, after)


def test_random_state_makes_fits_repeat_and_clone_keeps_routed_parameters():
    X, y = make_classification(200, 5, random_state=3)
    clf = Classifier(build_classifier, model__units=8, fit__epochs=3, random_state=7)
    first = clf.fit(X, y).predict_proba(X)
    second = clone(clf).fit(X, y).predict_proba(X)
    np.testing.assert_array_equal(first, second)
    assert clf.model_.layers[0].units == 8
    assert len(clf.history_["loss"]) == 3  # fit__epochs wins over epochs=10
    params = clone(clf).get_params()
    assert params["model__units"] == 8 and params["fit__epochs"] == 3
    other = Classifier(build_classifier, model__units=8, fit__epochs=3, random_state=8)
    assert not np.array_equal(first, other.fit(X, y).predict_proba(X))


def test_a_fitted_estimator_pickles_with_its_model():
    X, y = make_classification(100, 4, random_state=0)
    for estimator in (Classifier(build_classifier, epochs=2), Regressor(build_regressor, epochs=2)):
        estimator.fit(X, y)
        restored = pickle.loads(pickle.dumps(estimator))
        np.testing.assert_array_equal(restored.predict(X), estimator.predict(X))


def test_loss_choice_follows_the_model_and_categorical_gets_one_hot_targets():
    X, y = make_classification(150, 4, n_informative=3, n_redundant=0, n_classes=3, random_state=2)
    clf = Classifier(build_classifier, epochs=1).fit(X, y)
    assert isinstance(clf.model_.loss, fg.losses.SparseCategoricalCrossentropy)
    clf = Classifier(build_classifier, epochs=1, loss="categorical_crossentropy").fit(X, y)
    assert isinstance(clf.model_.loss, fg.losses.CategoricalCrossentropy)
    binary = Classifier(build_classifier, epochs=1).fit(X, y % 2)
    assert isinstance(binary.model_.loss, fg.losses.BinaryCrossentropy)
    assert binary.predict_proba(X).shape == (150, 2)


def test_clear_errors():
    X, y = make_classification(60, 4, n_informative=3, n_redundant=0, n_classes=3, random_state=0)

    def two_outputs(n_features_in_):
        return fg.Sequential([layers.Dense(2, activation="softmax", input_shape=(n_features_in_,))])

    with pytest.raises(ValueError, match=r"the model has 2 outputs but the targets have 3 classes"):
        Classifier(two_outputs, epochs=1).fit(X, y)
    with pytest.raises(TypeError, match=r"unexpected argument 'units'"):
        Classifier(build_classifier, units=3).fit(X, y)
    with pytest.raises(ValueError, match="model= is needed"):
        Classifier(epochs=1).fit(X, y)
    with pytest.raises(TypeError, match="must return a ferrograd model"):
        Classifier(lambda: "not a model", epochs=1).fit(X, y)
    model = build_classifier(n_features_in_=4, n_classes_=3)
    with pytest.raises(ValueError, match=r"model__ arguments .* \['model__units'\]"):
        Classifier(model, model__units=3).fit(X, y)
    fitted = Classifier(build_classifier, epochs=1).fit(X, y)
    with pytest.raises(ValueError, match="4 features"):
        fitted.predict(X[:, :3])


def test_an_unbuilt_model_is_copied_and_built_for_the_data():
    X, y = make_classification(200, 5, random_state=0)
    model = fg.Sequential(
        [layers.Dense(8, activation="relu"), layers.Dense(1, activation="sigmoid")]
    )
    clf = clone(Classifier(model, epochs=20, optimizer__learning_rate=0.01, random_state=0))
    clf.fit(X, y)
    assert not model.built  # the given model is only a template
    assert clf.model_.input_shape == (None, 5)
    assert clf.score(X, y) > 0.8

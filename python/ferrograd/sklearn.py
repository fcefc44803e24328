"""scikit-learn estimators around ferrograd models, in the manner of scikeras.

``Classifier`` and ``Regressor`` take a function that builds a model (or a model, copied from
its config at each fit), and work wherever scikit-learn takes an estimator: ``clone``,
``Pipeline``, ``GridSearchCV``, ``cross_val_score``, pickling.

Arguments are routed by prefix, as in scikeras:

- ``model__units=64``: passed to the model-building function;
- ``fit__epochs=20``, ``fit__batch_size=64``: passed to ``model.fit`` (over the plain
  ``epochs=``, ``batch_size=``, ``verbose=``, ... of the same name);
- ``compile__metrics=[...]``: passed to ``model.compile`` (over ``optimizer=``, ``loss=``);
- ``optimizer__learning_rate=0.01``: the optimizer's own arguments;
- ``predict__batch_size=256``: passed to ``model.predict``.

The building function may also name any of ``n_features_in_``, ``n_outputs_``,
``n_classes_``, ``classes_`` (the classifier's) or ``meta`` (all of them in a dict) to size the
model from the data. A model it returns already compiled keeps its compile settings; otherwise
the estimator compiles it with ``optimizer``, ``loss`` (a default that suits the targets when
None) and ``compile__*``.

Examples:
    >>> def build(units=32, n_features_in_=None, n_classes_=None):
    ...     return fg.Sequential([
    ...         fg.layers.Dense(units, activation="relu", input_shape=(n_features_in_,)),
    ...         fg.layers.Dense(n_classes_, activation="softmax"),
    ...     ])
    >>> from sklearn.model_selection import GridSearchCV
    >>> X = np.random.default_rng(0).normal(size=(60, 4)).astype("float32")
    >>> y = (X[:, 0] > 0).astype("int64")
    >>> clf = fg.sklearn.Classifier(build, model__units=8, epochs=3, random_state=0, verbose=0)
    >>> search = GridSearchCV(clf, {"model__units": [4, 8]}, cv=3).fit(X, y)
    >>> sorted(search.best_params_)
    ['model__units']
"""

from __future__ import annotations

import inspect

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin, RegressorMixin
from sklearn.preprocessing import LabelEncoder
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import check_is_fitted, check_random_state

from ferrograd import _core, losses, optimizers, saving
from ferrograd.models import Model, Sequential

try:  # scikit-learn >= 1.6
    from sklearn.utils.validation import validate_data as _validate_data
except ImportError:  # pragma: no cover - scikit-learn 1.3 to 1.5

    def _validate_data(estimator, *args, **kwargs):
        return estimator._validate_data(*args, **kwargs)


__all__ = ["Classifier", "Regressor"]

_ROUTED_PREFIXES = ("model__", "fit__", "compile__", "optimizer__", "predict__")
_META_NAMES = ("n_features_in_", "n_outputs_", "n_classes_", "classes_")


class _FerrogradEstimator(BaseEstimator):
    """What ``Classifier`` and ``Regressor`` share: parameters, routing, building, fitting."""

    def __init__(
        self,
        model=None,
        *,
        optimizer="adam",
        loss=None,
        metrics=None,
        batch_size=32,
        epochs=10,
        verbose=0,
        validation_split=0.0,
        shuffle=True,
        callbacks=None,
        random_state=None,
        **routed,
    ):
        self.model = model
        self.optimizer = optimizer
        self.loss = loss
        self.metrics = metrics
        self.batch_size = batch_size
        self.epochs = epochs
        self.verbose = verbose
        self.validation_split = validation_split
        self.shuffle = shuffle
        self.callbacks = callbacks
        self.random_state = random_state
        # Kept in one private dict (scikit-learn's checks want no other public attribute set
        # here) and checked at fit, where a wrong name is reported.
        self._routed_params = dict(routed)

    # --- parameters: the constructor's, plus the routed ones --------------------------------

    def get_params(self, deep=True):
        """The estimator's parameters, the routed ones (``model__units``...) included, as
        scikit-learn's ``clone`` and ``GridSearchCV`` read them.

        Args:
            deep: also list the parameters of nested estimators, as scikit-learn does
                (default True).

        Returns:
            A dict of parameter names to values.

        Examples:
            >>> clf = fg.sklearn.Classifier(None, model__units=8)
            >>> clf.get_params()["model__units"], clf.get_params()["epochs"]
            (8, 10)
        """
        params = super().get_params(deep=deep)
        params.update(self._routed_params)
        return params

    def set_params(self, **params):
        """Sets parameters by name, the routed ones (``fit__batch_size``...) included.

        Args:
            **params: the parameters, by name; routed names are checked at ``fit``.

        Returns:
            The estimator itself.

        Examples:
            >>> clf = fg.sklearn.Classifier(None).set_params(epochs=2, fit__batch_size=8)
            >>> clf.epochs, clf.get_params()["fit__batch_size"]
            (2, 8)
        """
        named = set(self._get_param_names())
        for key in [key for key in params if key not in named]:
            self._routed_params[key] = params.pop(key)
        return super().set_params(**params) if params else self

    def _routed(self, prefix: str) -> dict:
        return {
            key[len(prefix) :]: value
            for key, value in self._routed_params.items()
            if key.startswith(prefix)
        }

    # --- fitting ----------------------------------------------------------------------------

    def fit(self, X, y, **fit_params):
        """Builds a fresh model and trains it on ``X`` (2-D features) and ``y``.

        ``fit_params`` go to ``model.fit`` (``validation_data=``, ``callbacks=``, ...), over the
        estimator's own settings.

        Args:
            X: the features, ``(n_samples, n_features)``.
            y: the targets: labels for a ``Classifier``, values (1-D or
                ``(n_samples, n_outputs)``) for a ``Regressor``.
            **fit_params: more arguments for ``model.fit``.

        Returns:
            The estimator itself, with ``model_`` and ``history_`` set.

        Raises:
            ValueError: a routed parameter with an unknown prefix, or a model whose number of
                outputs does not suit the targets.

        Examples:
            >>> def build(n_features_in_=None, n_classes_=None):
            ...     output = layers.Dense(n_classes_, activation="softmax")
            ...     return fg.Sequential([fg.Input((n_features_in_,)), output])
            >>> clf = fg.sklearn.Classifier(build, epochs=2, random_state=0)
            >>> len(clf.fit(x, y[:, 0]).history_["loss"])
            2
        """
        for key in self._routed_params:
            _check_routed_name(key)
        X, y = self._validate_training_data(X, y)
        targets = self._encode_targets(y)
        if self.random_state is not None:
            # fg.set_seed seeds the weight initialisers, the shuffling and dropout alike.
            _core.set_seed(int(check_random_state(self.random_state).randint(2**31 - 1)))
        self.model_ = self._build_model()
        self._check_outputs(self.model_)
        if not self.model_.compiled:
            self.model_.compile(**self._compile_arguments())
        targets = self._prepare_targets(targets, self.model_)
        arguments = {
            "batch_size": self.batch_size,
            "epochs": self.epochs,
            "verbose": self.verbose,
            "validation_split": self.validation_split,
            "shuffle": self.shuffle,
            "callbacks": self.callbacks,
            **self._routed("fit__"),
            **fit_params,
        }
        self.history_ = self.model_.fit(X, targets, **arguments).history
        return self

    def _validate_training_data(self, X, y):
        X, y = _validate_data(
            self, X, y, dtype=(np.float64, np.float32), y_numeric=self._numeric_targets
        )
        self.X_shape_ = X.shape
        return X, y

    def _meta(self) -> dict:
        return {name: getattr(self, name) for name in _META_NAMES if hasattr(self, name)}

    def _build_model(self) -> Model:
        model_arguments = self._routed("model__")
        if self.model is None:
            raise ValueError(
                "model= is needed: a function that returns a ferrograd model, or a model"
            )
        if isinstance(self.model, Model):
            if model_arguments:
                raise ValueError(
                    "model__ arguments go to a model-building function, but model= is a model; "
                    f"received {sorted('model__' + key for key in model_arguments)}"
                )
            return _fresh_copy(self.model, self.n_features_in_)
        if not callable(self.model):
            raise TypeError(
                "model= must be a function that returns a ferrograd model, or a model; "
                f"received {self.model!r}"
            )
        meta = self._meta()
        parameters = inspect.signature(self.model).parameters
        for name, value in meta.items():
            if name in parameters:
                model_arguments.setdefault(name, value)
        if "meta" in parameters:
            model_arguments.setdefault("meta", meta)
        model = self.model(**model_arguments)
        if not isinstance(model, Model):
            raise TypeError(
                f"the model-building function must return a ferrograd model, returned {model!r}"
            )
        model._ensure_built((self.n_features_in_,))
        return model

    def _compile_arguments(self) -> dict:
        arguments = {
            "optimizer": _fresh_optimizer(self.optimizer, self._routed("optimizer__")),
            "loss": self._resolved_loss(),
            "metrics": self.metrics,
        }
        arguments.update(self._routed("compile__"))
        return arguments

    def _resolved_loss(self):
        if self.loss is None:
            return self._default_loss(self.model_)
        if isinstance(self.loss, losses.Loss):
            return losses.deserialize(losses.serialize(self.loss))
        return self.loss

    # --- predicting -------------------------------------------------------------------------

    def _raw_predict(self, X) -> np.ndarray:
        check_is_fitted(self, "model_")
        X = _validate_data(self, X, dtype=(np.float64, np.float32), reset=False)
        arguments = {"verbose": 0, "batch_size": self.batch_size, **self._routed("predict__")}
        return np.asarray(self.model_.predict(X, **arguments))

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.non_deterministic = self.random_state is None
        return tags


class Classifier(ClassifierMixin, _FerrogradEstimator):
    """A scikit-learn classifier that trains a ferrograd model.

    Args:
        model: a function returning a ``fg.Sequential``/``fg.Model`` (it may name
            ``n_features_in_``, ``n_classes_``, ``classes_``, ``meta`` and take ``model__*``
            arguments), or a built model, copied with fresh weights at each fit.
        optimizer: a name or an ``fg.optimizers`` instance (copied at each fit); default
            ``"adam"``. ``optimizer__learning_rate=`` and the like set its arguments.
        loss: default None: ``"binary_crossentropy"`` for a model with one output (a sigmoid),
            ``"sparse_categorical_crossentropy"`` for one output per class (a softmax).
            ``"categorical_crossentropy"`` is given one-hot targets.
        metrics: passed to ``compile``.
        batch_size, epochs, verbose, validation_split, shuffle, callbacks: passed to ``fit``;
            defaults 32, 10, 0, 0.0, True, None.
        random_state: an int (or ``np.random.RandomState``) to seed ``fg.set_seed`` with before
            each fit, so that fits repeat exactly; None leaves the seed alone. The seed is
            global to ferrograd.
        **routed: ``model__*``, ``fit__*``, ``compile__*``, ``optimizer__*``, ``predict__*``.

    Attributes (after fit): ``model_``, ``history_``, ``classes_``, ``n_classes_``,
    ``n_features_in_``, ``n_outputs_`` (1).

    The labels may be any values scikit-learn accepts (strings included): they are encoded as
    ``0 .. n_classes_ - 1`` in the order of ``classes_``, and predictions decoded back.
    """

    _numeric_targets = False

    def _encode_targets(self, y):
        check_classification_targets(y)
        encoder = LabelEncoder().fit(y)
        self.classes_ = encoder.classes_
        self.n_classes_ = len(self.classes_)
        self.n_outputs_ = 1
        return encoder.transform(y)

    def _default_loss(self, model):
        return (
            "binary_crossentropy"
            if _output_units(model) == 1
            else ("sparse_categorical_crossentropy")
        )

    def _check_outputs(self, model) -> None:
        units = _output_units(model)
        if units == 1 and self.n_classes_ > 2:
            raise ValueError(
                f"the targets have {self.n_classes_} classes but the model has one output; "
                "build it with n_classes_ outputs and a softmax (name n_classes_ in the building "
                "function to receive it)"
            )
        if units != 1 and units != self.n_classes_:
            raise ValueError(
                f"the model has {units} outputs but the targets have {self.n_classes_} classes "
                f"{list(self.classes_)}; build it with n_classes_ outputs"
            )

    def _prepare_targets(self, labels, model):
        if isinstance(losses.get(model.loss), losses.CategoricalCrossentropy):
            return np.eye(_output_units(model), dtype=np.float32)[labels]
        return labels.astype(np.float32).reshape(-1, 1) if _output_units(model) == 1 else labels

    def predict_proba(self, X) -> np.ndarray:
        """The probability of each class, ``(n_samples, n_classes_)``, in ``classes_``'s order.

        Args:
            X: the features, ``(n_samples, n_features)``.

        Returns:
            A numpy array whose rows sum to 1.

        Examples:
            >>> def build(n_features_in_=None, n_classes_=None):
            ...     output = layers.Dense(n_classes_, activation="softmax")
            ...     return fg.Sequential([fg.Input((n_features_in_,)), output])
            >>> clf = fg.sklearn.Classifier(build, epochs=2, random_state=0).fit(x, y[:, 0])
            >>> clf.predict_proba(x_test).shape
            (8, 2)
        """
        outputs = self._raw_predict(X)
        if outputs.shape[1] == 1 and self.n_classes_ <= 2:
            positive = outputs[:, 0]
            probabilities = np.column_stack([1.0 - positive, positive])
            return probabilities[:, : self.n_classes_]
        return outputs

    def predict(self, X) -> np.ndarray:
        """The most probable class of each sample, as one of ``classes_``.

        Args:
            X: the features, ``(n_samples, n_features)``.

        Returns:
            A 1-D numpy array of labels.

        Examples:
            >>> def build(n_features_in_=None, n_classes_=None):
            ...     output = layers.Dense(n_classes_, activation="softmax")
            ...     return fg.Sequential([fg.Input((n_features_in_,)), output])
            >>> labels = np.where(y[:, 0] > 0, "yes", "no")
            >>> clf = fg.sklearn.Classifier(build, epochs=2, random_state=0).fit(x, labels)
            >>> clf.classes_
            array(['no', 'yes'], dtype='<U3')
            >>> clf.predict(x_test).shape
            (8,)
        """
        probabilities = self.predict_proba(X)
        return self.classes_[np.argmax(probabilities, axis=1)]

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.classifier_tags.multi_label = False
        return tags


class Regressor(RegressorMixin, _FerrogradEstimator):
    """A scikit-learn regressor that trains a ferrograd model.

    Takes the same arguments as ``Classifier``; ``loss`` defaults to ``"mse"``. The building
    function may name ``n_features_in_``, ``n_outputs_`` and ``meta``. Targets may be 1-D
    (predictions are then 1-D) or ``(n_samples, n_outputs)``. ``score`` is R².

    Attributes (after fit): ``model_``, ``history_``, ``n_features_in_``, ``n_outputs_``.

    Args:
        model: a function returning a ``fg.Sequential``/``fg.Model`` (it may name
            ``n_features_in_``, ``n_outputs_``, ``meta`` and take ``model__*`` arguments), or
            a built model, copied with fresh weights at each fit.
        optimizer: a name or an ``fg.optimizers`` instance (copied at each fit); default
            ``"adam"``.
        loss: default None, which means ``"mse"``.
        metrics: passed to ``compile`` (default None).
        batch_size: passed to ``fit`` (default 32).
        epochs: passed to ``fit`` (default 10).
        verbose: passed to ``fit`` (default 0).
        validation_split: passed to ``fit`` (default 0.0).
        shuffle: passed to ``fit`` (default True).
        callbacks: passed to ``fit`` (default None).
        random_state: an int (or ``np.random.RandomState``) to seed ``fg.set_seed`` with before
            each fit; None leaves the seed alone (default None).
        **routed: ``model__*``, ``fit__*``, ``compile__*``, ``optimizer__*``, ``predict__*``.

    Examples:
        >>> def build(n_features_in_=None, n_outputs_=None):
        ...     return fg.Sequential([layers.Dense(n_outputs_, input_shape=(n_features_in_,))])
        >>> reg = fg.sklearn.Regressor(build, epochs=2, random_state=0)
        >>> reg.fit(x, x[:, 0] * 2.0).predict(x_test).shape
        (8,)
    """

    _numeric_targets = True

    def _validate_training_data(self, X, y):
        X, y = _validate_data(
            self, X, y, dtype=(np.float64, np.float32), y_numeric=True, multi_output=True
        )
        self.X_shape_ = X.shape
        return X, y

    def _encode_targets(self, y):
        y = np.asarray(y, dtype=np.float64)
        self.target_ndim_ = y.ndim
        targets = y.reshape(len(y), -1)
        self.n_outputs_ = targets.shape[1]
        return targets

    def _default_loss(self, model):
        return "mse"

    def _check_outputs(self, model) -> None:
        units = _output_units(model)
        if units != self.n_outputs_:
            raise ValueError(
                f"the model has {units} outputs but the targets have {self.n_outputs_} columns; "
                "build it with n_outputs_ outputs"
            )

    def _prepare_targets(self, targets, model):
        return targets

    def predict(self, X) -> np.ndarray:
        """The model's outputs: 1-D when fitted on 1-D targets, else ``(n, n_outputs_)``.

        Args:
            X: the features, ``(n_samples, n_features)``.

        Returns:
            A float64 numpy array.

        Examples:
            >>> def build(n_features_in_=None, n_outputs_=None):
            ...     return fg.Sequential([layers.Dense(n_outputs_, input_shape=(n_features_in_,))])
            >>> reg = fg.sklearn.Regressor(build, epochs=2, random_state=0).fit(x, x[:, :2])
            >>> reg.predict(x_test).shape
            (8, 2)
        """
        # scikit-learn's regressors answer in float64, whatever the precision of the model.
        outputs = self._raw_predict(X).astype(np.float64)
        return outputs.reshape(-1) if self.target_ndim_ == 1 else outputs

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.target_tags.multi_output = True
        tags.target_tags.single_output = True
        return tags


# --- helpers -----------------------------------------------------------------------------------


def _check_routed_name(key: str) -> None:
    if not key.startswith(_ROUTED_PREFIXES) or key in _ROUTED_PREFIXES:
        raise TypeError(
            f"unexpected argument {key!r}: besides the named arguments, only routed ones are "
            f"taken, written {', '.join(p + '<name>' for p in _ROUTED_PREFIXES)}"
        )


def _output_units(model) -> int:
    return int(model.output_shape[-1])


def _fresh_optimizer(optimizer, overrides: dict):
    """A new optimizer (no state shared between fits) from a name or an instance."""
    if isinstance(optimizer, str):
        if not overrides:
            return optimizers.get(optimizer)
        return optimizers.deserialize({"class_name": optimizer, "config": overrides})
    if isinstance(optimizer, optimizers.Optimizer):
        config = optimizers.serialize(optimizer)
        config["config"] = {**config["config"], **overrides}
        return optimizers.deserialize(config)
    raise TypeError(
        f"optimizer must be a name or an fg.optimizers instance, received {optimizer!r}"
    )


def _fresh_copy(model: Model, n_features: int) -> Model:
    """A model of ``model``'s architecture and compile settings, with freshly drawn weights."""
    if model.built:
        config = model.get_config()
    elif isinstance(model, Sequential):
        config = {
            "class": "Sequential",
            "name": model.name,
            "layers": [saving._layer_entry(layer) for layer in model.layers],
            "input_shape": [None, n_features],
        }
    else:  # pragma: no cover - a functional model is always built
        raise ValueError(f"the model {model.name!r} is not built")
    copy = saving.model_from_config(config, source=f"model {model.name!r}")
    compile_config = saving.compile_config(model)
    if compile_config is not None:
        copy.compile(**saving.compile_arguments(compile_config))
    return copy

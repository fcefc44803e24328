"""Models with several inputs and outputs: fit, evaluate and predict as in Keras 3.

The model is the keras.io Functional API guide's ticket classifier ("Models with multiple
inputs and outputs": title, body and tags -> priority and department), smaller, built with the
functional API as the guide builds it.
"""

import numpy as np
import pytest

import ferrograd as fg
from ferrograd import _core, layers, losses

NUM_TAGS, NUM_WORDS, NUM_DEPARTMENTS = 12, 200, 4


def ticket_model(seed=0):
    """title (ints, 10 steps), body (ints, 20 steps), tags (12) -> Embedding + LSTM each,
    concatenated with the tags -> "priority" Dense(1) and "department" Dense(4)."""
    fg.utils.set_random_seed(seed)
    title = fg.Input(shape=(10,), name="title")
    body = fg.Input(shape=(20,), name="body")
    tags = fg.Input(shape=(NUM_TAGS,), name="tags")
    title_features = layers.LSTM(8)(layers.Embedding(NUM_WORDS, 8)(title))
    body_features = layers.LSTM(4)(layers.Embedding(NUM_WORDS, 8)(body))
    features = layers.concatenate([title_features, body_features, tags])
    priority = layers.Dense(1, name="priority")(features)
    department = layers.Dense(NUM_DEPARTMENTS, name="department")(features)
    return fg.Model(
        inputs=[title, body, tags], outputs=[priority, department], name="ticket_classifier"
    )


def ticket_data(rows=128, seed=1):
    rng = np.random.default_rng(seed)
    title = rng.integers(NUM_WORDS, size=(rows, 10)).astype("float32")
    body = rng.integers(NUM_WORDS, size=(rows, 20)).astype("float32")
    tags = rng.integers(2, size=(rows, NUM_TAGS)).astype("float32")
    priority = rng.random((rows, 1)).astype("float32")
    department = rng.integers(2, size=(rows, NUM_DEPARTMENTS)).astype("float32")
    return [title, body, tags], [priority, department]


def guide_compile(model, **kwargs):
    model.compile(
        optimizer=fg.optimizers.RMSprop(1e-3),
        loss=kwargs.pop(
            "loss",
            [
                losses.BinaryCrossentropy(from_logits=True),
                losses.CategoricalCrossentropy(from_logits=True),
            ],
        ),
        loss_weights=kwargs.pop("loss_weights", [1.0, 0.2]),
        **kwargs,
    )


def by_hand(model, x, y):
    """The two head losses on all rows, from the model's outputs."""
    outputs = model.predict(x, batch_size=len(x[0]), verbose=0)
    bce = losses.BinaryCrossentropy(from_logits=True)
    cce = losses.CategoricalCrossentropy(from_logits=True)
    priority = float(bce._core.compute(_core.tensor(y[0]), _core.tensor(outputs[0])).item())
    department = float(cce._core.compute(_core.tensor(y[1]), _core.tensor(outputs[1])).item())
    return priority, department


def test_the_guides_example_trains_with_keras_history_keys():
    model = ticket_model()
    guide_compile(model, metrics={"department": ["accuracy"]})
    x, y = ticket_data()
    history = model.fit(
        {"title": x[0], "body": x[1], "tags": x[2]},
        {"priority": y[0], "department": y[1]},
        epochs=3,
        batch_size=32,
        validation_split=0.25,
        verbose=0,
    )
    assert list(history.history) == [
        "loss",
        "priority_loss",
        "department_loss",
        "department_accuracy",
        "val_loss",
        "val_priority_loss",
        "val_department_loss",
        "val_department_accuracy",
    ]
    for key, values in history.history.items():
        assert len(values) == 3 and all(np.isfinite(values)), key
    losses_seen = history.history["loss"]
    assert losses_seen[-1] < losses_seen[0]
    # The total is the weighted sum of the output losses (no regularizers here), epoch by
    # epoch up to the running means being taken over the same batches.
    for total, p, d in zip(
        history.history["val_loss"],
        history.history["val_priority_loss"],
        history.history["val_department_loss"],
        strict=True,
    ):
        assert total == pytest.approx(p + 0.2 * d, rel=1e-5)


def test_evaluate_order_and_weighted_total_match_a_computation_by_hand():
    model = ticket_model()
    guide_compile(model, metrics=[None, ["accuracy"]])
    x, y = ticket_data(rows=64)
    priority, department = by_hand(model, x, y)
    assert priority > 0.1 and department > 0.1
    values = model.evaluate(x, y, batch_size=64, verbose=0)
    assert len(values) == 4
    assert values[0] == pytest.approx(priority + 0.2 * department, rel=1e-5)
    assert values[1] == pytest.approx(priority, rel=1e-5)
    assert values[2] == pytest.approx(department, rel=1e-5)
    assert 0.0 <= values[3] <= 1.0
    logs = model.evaluate(x, y, batch_size=16, verbose=0, return_dict=True)
    assert list(logs) == ["loss", "priority_loss", "department_loss", "department_accuracy"]
    assert logs["loss"] == pytest.approx(values[0], rel=1e-5)


def test_losses_as_list_and_as_dict_and_weights_as_dict_agree():
    x, y = ticket_data(rows=64)
    results = []
    for loss, weights in (
        (["binary_crossentropy", "mse"], [2.0, 0.5]),
        (
            {"department": "mse", "priority": "binary_crossentropy"},
            {"priority": 2.0, "department": 0.5},
        ),
    ):
        model = ticket_model()
        model.compile(optimizer="sgd", loss=loss, loss_weights=weights)
        results.append(model.evaluate(x, y, batch_size=64, verbose=0, return_dict=True))
    assert results[0] == results[1]
    logs = results[0]
    assert logs["loss"] == pytest.approx(
        2.0 * logs["priority_loss"] + 0.5 * logs["department_loss"], rel=1e-5
    )
    # No loss_weights: the plain sum; one loss for every output.
    model = ticket_model()
    model.compile(optimizer="sgd", loss="mse")
    logs = model.evaluate(x, y, batch_size=64, verbose=0, return_dict=True)
    assert logs["loss"] == pytest.approx(logs["priority_loss"] + logs["department_loss"], rel=1e-5)


def test_predict_returns_one_array_per_output_in_order():
    model = ticket_model()
    x, _ = ticket_data(rows=50)
    outputs = model.predict(x, batch_size=16, verbose=0)
    assert isinstance(outputs, list) and len(outputs) == 2
    assert outputs[0].shape == (50, 1) and outputs[1].shape == (50, NUM_DEPARTMENTS)
    by_dict = model.predict({"tags": x[2], "title": x[0], "body": x[1]}, batch_size=7, verbose=0)
    np.testing.assert_array_equal(outputs[0], by_dict[0])
    np.testing.assert_array_equal(outputs[1], by_dict[1])
    forward = model._graph.forward_all([_core.tensor(a) for a in x], False)
    np.testing.assert_allclose(outputs[1], forward[1].numpy(), rtol=1e-5, atol=1e-6)


def test_generators_of_tuples_and_dicts_give_the_same_training():
    x, y = ticket_data(rows=64)

    def tuples():
        for start in range(0, 64, 16):
            s = slice(start, start + 16)
            yield (x[0][s], x[1][s], x[2][s]), (y[0][s], y[1][s])

    def dicts():
        for start in range(0, 64, 16):
            s = slice(start, start + 16)
            yield (
                {"title": x[0][s], "body": x[1][s], "tags": x[2][s]},
                {"priority": y[0][s], "department": y[1][s]},
            )

    weights = []
    for make in (tuples, dicts, None):
        model = ticket_model()
        guide_compile(model)
        if make is None:
            model.fit(x, y, batch_size=16, epochs=1, shuffle=False, verbose=0)
        else:
            model.fit(make(), epochs=1, verbose=0)
        weights.append(model.get_weights())
    for a, b, c in zip(*weights, strict=True):
        np.testing.assert_array_equal(a, b)
        np.testing.assert_array_equal(a, c)
    model = ticket_model()
    guide_compile(model)
    assert model.evaluate(dicts(), verbose=0)[0] == pytest.approx(
        model.evaluate(x, y, batch_size=16, verbose=0)[0], rel=1e-6
    )
    outputs = model.predict(((a,) for a, _ in tuples()), verbose=0)
    assert outputs[1].shape == (64, NUM_DEPARTMENTS)


def test_bad_multi_output_arguments_are_clear_errors():
    model = ticket_model()
    x, y = ticket_data(rows=16)
    model.compile(optimizer="sgd", loss=["mse"])
    with pytest.raises(ValueError, match="2 outputs"):
        model.evaluate(x, y, verbose=0)
    model.compile(optimizer="sgd", loss={"priority": "mse", "dept": "mse"})
    with pytest.raises(ValueError, match="dept"):
        model.evaluate(x, y, verbose=0)
    model.compile(optimizer="sgd", loss="mse", metrics=["mae"])
    with pytest.raises(ValueError, match="one entry per output"):
        model.evaluate(x, y, verbose=0)
    model.compile(optimizer="sgd", loss="mse")
    with pytest.raises(ValueError, match="missing"):
        model.fit({"title": x[0], "body": x[1]}, y, verbose=0)
    with pytest.raises(ValueError, match="same number of samples"):
        model.fit(x, [y[0], y[1][:8]], verbose=0)


def test_the_functional_guide_code_runs_with_only_the_import_changed():
    """keras.io "The Functional API", "Models with multiple inputs and outputs", as written
    there (outputs as a dict, variable-length inputs), with ``import ferrograd as keras``."""
    import ferrograd as keras

    num_tags, num_words, num_departments = 12, 10000, 4
    title_input = keras.Input(shape=(None,), name="title")
    body_input = keras.Input(shape=(None,), name="body")
    tags_input = keras.Input(shape=(num_tags,), name="tags")
    title_features = layers.Embedding(num_words, 64)(title_input)
    body_features = layers.Embedding(num_words, 64)(body_input)
    title_features = layers.LSTM(128)(title_features)
    body_features = layers.LSTM(32)(body_features)
    x = layers.concatenate([title_features, body_features, tags_input])
    priority_pred = layers.Dense(1, name="priority")(x)
    department_pred = layers.Dense(num_departments, name="department")(x)
    model = keras.Model(
        inputs=[title_input, body_input, tags_input],
        outputs={"priority": priority_pred, "department": department_pred},
    )
    assert model.count_params() == 1_392_097
    model.compile(
        optimizer=keras.optimizers.RMSprop(1e-3),
        loss={
            "priority": keras.losses.BinaryCrossentropy(from_logits=True),
            "department": keras.losses.CategoricalCrossentropy(from_logits=True),
        },
        loss_weights={"priority": 1.0, "department": 0.2},
    )
    rng = np.random.default_rng(0)
    title_data = rng.integers(num_words, size=(64, 10))
    body_data = rng.integers(num_words, size=(64, 30))
    tags_data = rng.integers(2, size=(64, num_tags)).astype("float32")
    priority_targets = rng.random(size=(64, 1))
    dept_targets = rng.integers(2, size=(64, num_departments))
    history = model.fit(
        {"title": title_data, "body": body_data, "tags": tags_data},
        {"priority": priority_targets, "department": dept_targets},
        epochs=2,
        batch_size=32,
        verbose=0,
    )
    assert set(history.history) == {"loss", "priority_loss", "department_loss"}
    total = history.history["loss"][-1]
    parts = history.history["priority_loss"][-1] + 0.2 * history.history["department_loss"][-1]
    assert total == pytest.approx(parts, rel=1e-4)
    predictions = model.predict(
        {"title": title_data, "body": body_data, "tags": tags_data}, verbose=0
    )
    assert set(predictions) == {"priority", "department"}
    assert predictions["priority"].shape == (64, 1)
    assert predictions["department"].shape == (64, num_departments)

"""Model structure: Sequential and functional models, summary, predict, weights, calls."""

import numpy as np
import pytest

import ferrograd as fg
from ferrograd import layers


def mlp(input_dim=20):
    return fg.Sequential(
        [
            layers.Dense(16, activation="relu", input_shape=(input_dim,)),
            layers.Dense(8, activation="tanh"),
            layers.Dense(3, activation="softmax"),
        ]
    )


def numpy_forward(model, x):
    (k1, b1), (k2, b2), (k3, b3) = (layer.get_weights() for layer in model.layers)
    h = np.maximum(x @ k1 + b1, 0)
    h = np.tanh(h @ k2 + b2)
    z = h @ k3 + b3
    e = np.exp(z - z.max(1, keepdims=True))
    return e / e.sum(1, keepdims=True)


def functional_mnist_model():
    inputs = layers.Input(shape=(784,))
    hidden = layers.Dense(128, activation="relu")(inputs)
    outputs = layers.Dense(10, activation="softmax")(hidden)
    return fg.Model(inputs=inputs, outputs=outputs)


def test_summary_reads_like_keras(capsys):
    fg.clear_session()
    functional_mnist_model().summary()
    text = capsys.readouterr().out
    assert 'Model: "functional"' in text
    for column in ("Layer (type)", "Output Shape", "Param #"):
        assert column in text
    assert "input_layer (InputLayer)" in text and "(None, 784)" in text
    assert "dense (Dense)" in text and "100,480" in text and "1,290" in text
    assert "Total params: 101,770 (397.54 KB)" in text
    assert "Trainable params: 101,770 (397.54 KB)" in text
    assert "Non-trainable params: 0 (0.00 B)" in text


def test_predict_matches_numpy_and_does_not_depend_on_batch_size(rng):
    model = mlp()
    x = rng.standard_normal((103, 20)).astype("float32")
    expected = numpy_forward(model, x)
    for batch_size in (1, 7, 32, 500):
        np.testing.assert_allclose(
            model.predict(x, batch_size=batch_size, verbose=0), expected, rtol=1e-5, atol=1e-6
        )
    np.testing.assert_allclose(model(x).numpy(), expected, rtol=1e-5, atol=1e-6)


def test_predict_is_bit_identical_across_thread_counts_and_batch_sizes(rng):
    # Each batch cuts its work into the same chunks whatever the thread count, so the outputs
    # must not move by a single bit.
    model = mlp()
    x = rng.standard_normal((301, 20)).astype("float32")
    reference = model.predict(x, batch_size=301, verbose=0)
    try:
        for threads in (1, 2, 3, 8):
            fg.set_num_threads(threads)
            for batch_size in (1, 7, 32, 300):
                np.testing.assert_array_equal(
                    model.predict(x, batch_size=batch_size, verbose=0), reference
                )
    finally:
        fg.set_num_threads(2)


def test_predict_calls_the_batch_hooks_once_per_batch_in_order(rng):
    events = []
    callback = fg.callbacks.LambdaCallback(
        on_predict_batch_begin=lambda batch, logs: events.append(("begin", batch)),
        on_predict_batch_end=lambda batch, logs: events.append(("end", batch)),
    )
    mlp().predict(rng.standard_normal((50, 20)), batch_size=8, verbose=0, callbacks=[callback])
    begins = [batch for kind, batch in events if kind == "begin"]
    ends = [batch for kind, batch in events if kind == "end"]
    assert begins == list(range(7)) and ends == list(range(7))
    for batch in range(7):
        assert events.index(("begin", batch)) < events.index(("end", batch))
    with pytest.raises(TypeError, match="on_bogus"):
        fg.callbacks.LambdaCallback(on_bogus=print)


def test_predict_sees_weights_a_callback_changes_between_batches(rng):
    # predict packs each kernel once for all its batches; a change must still reach the next one.
    model = mlp()
    x = rng.standard_normal((12, 20)).astype("float32")
    before = model.predict(x, verbose=0)
    doubled = [w * 2 for w in model.get_weights()]
    callback = fg.callbacks.LambdaCallback(
        on_predict_batch_end=lambda batch, logs: batch == 0 and model.set_weights(doubled)
    )
    mixed = model.predict(x, batch_size=4, verbose=0, callbacks=[callback])
    after = model.predict(x, verbose=0)
    assert not np.allclose(before[4:], after[4:])
    np.testing.assert_array_equal(mixed[:4], before[:4])
    np.testing.assert_array_equal(mixed[4:], after[4:])


def test_predict_takes_float64_lists_memmaps_and_generators(rng, tmp_path):
    model = mlp(4)
    x = rng.standard_normal((10, 4))
    expected = model.predict(x.astype("float32"), verbose=0)
    np.testing.assert_allclose(model.predict(x, verbose=0), expected, rtol=1e-6)
    np.testing.assert_allclose(model.predict(x.tolist(), verbose=0), expected, rtol=1e-6)
    np.testing.assert_allclose(model.predict(x[::-1][::-1], verbose=0), expected, rtol=1e-6)
    mapped = np.memmap(tmp_path / "x.bin", dtype="float64", mode="w+", shape=x.shape)
    mapped[:] = x
    mapped.flush()
    np.testing.assert_allclose(
        model.predict(
            np.memmap(tmp_path / "x.bin", dtype="float64", mode="r", shape=x.shape), verbose=0
        ),
        expected,
        rtol=1e-6,
    )
    batches = (x[i : i + 3] for i in range(0, 10, 3))
    np.testing.assert_allclose(model.predict(batches, verbose=0), expected, rtol=1e-6)


def test_uint8_memmap_is_read_batch_by_batch(tmp_path):
    data = np.arange(6 * 4, dtype=np.uint8).reshape(6, 4)
    path = tmp_path / "images.u8"
    data.tofile(path)
    mapped = np.memmap(path, dtype=np.uint8, mode="r", shape=(6, 4))
    model = fg.Sequential([layers.Dense(2, input_shape=(4,))])
    np.testing.assert_allclose(
        model.predict(mapped, batch_size=4, verbose=0),
        model.predict(data.astype("float32"), verbose=0),
        rtol=1e-6,
    )


def test_sequential_builds_lazily_and_from_an_input():
    lazy = fg.Sequential([layers.Dense(4), layers.Dense(2)])
    assert not lazy.built
    assert lazy.predict(np.ones((3, 5)), verbose=0).shape == (3, 2)
    assert lazy.input_shape == (None, 5) and lazy.output_shape == (None, 2)
    with_input = fg.Sequential([layers.Input(shape=(6,)), layers.Dense(2)])
    assert with_input.built and with_input.count_params() == 14
    added = fg.Sequential()
    added.add(layers.Dense(3, input_dim=2))
    added.add(layers.Dense(1))
    assert added.count_params() == 9 + 4
    added.pop()
    assert added.output_shape == (None, 3)


def test_wrong_feature_count_is_a_clear_error():
    model = mlp(20)
    with pytest.raises(ValueError, match=r"\(None, 20\).*\(4, 7\)"):
        model.predict(np.ones((4, 7)), verbose=0)
    with pytest.raises(fg.errors.ShapeError):
        model(np.ones((4, 7)))


def test_functional_model_structure():
    fg.clear_session()
    model = functional_mnist_model()
    assert [type(layer).__name__ for layer in model.layers] == ["InputLayer", "Dense", "Dense"]
    assert model.get_layer("dense").count_params() == 100_480
    assert [name for name, _ in model.named_weights()] == [
        "dense/kernel",
        "dense/bias",
        "dense_1/kernel",
        "dense_1/bias",
    ]
    stray = layers.Input(shape=(3,))
    with pytest.raises(ValueError, match="disconnected"):
        fg.Model(inputs=layers.Input(shape=(3,)), outputs=layers.Dense(2)(stray))
    with pytest.raises(TypeError):
        fg.Model(inputs=np.ones(3), outputs=np.ones(3))


def test_a_shared_layer_counts_its_weights_once():
    inputs = layers.Input(shape=(4,))
    shared = layers.Dense(4)
    outputs = shared(shared(inputs))
    model = fg.Model(inputs=inputs, outputs=outputs)
    assert model.count_params() == 20
    x = np.ones((2, 4), dtype="float32")
    k, b = shared.get_weights()
    np.testing.assert_allclose(model.predict(x, verbose=0), (x @ k + b) @ k + b, rtol=1e-5)


def test_weights_round_trip_and_mismatches_change_nothing(rng):
    model = mlp()
    saved = model.get_weights()
    model.set_weights([w + 1 for w in saved])
    np.testing.assert_allclose(model.get_weights()[0], saved[0] + 1)
    with pytest.raises(ValueError, match="6 weight arrays"):
        model.set_weights(saved[:2])
    model.set_weights(saved)
    np.testing.assert_array_equal(model.get_weights()[2], saved[2])


def test_calling_a_model_records_a_graph_for_a_hand_written_loop(rng):
    model = mlp()
    x = rng.standard_normal((8, 20)).astype("float32")
    loss = (model(x) ** 2).mean()
    model.zero_grad()
    loss.backward()
    assert all(w.grad is not None and w.grad.shape == w.shape for w in model.trainable_weights)
    model.zero_grad()
    assert all(w.grad is None for w in model.trainable_weights)
    with fg.no_grad():
        assert not model(x).requires_grad


def test_metrics_names_name_what_evaluate_returns(rng):
    model = mlp(4)
    model.compile(optimizer="rmsprop", loss="sparse_categorical_crossentropy", metrics=["acc"])
    assert model.metrics_names == []  # as in Keras: known once the model has run
    x = rng.standard_normal((12, 4)).astype("float32")
    y = rng.integers(0, 3, size=12)
    model.fit(x, y, epochs=1, validation_split=0.25, verbose=0)
    assert model.metrics_names == ["loss", "acc"]
    results = model.evaluate(x, y, verbose=0)
    assert dict(zip(model.metrics_names, results, strict=True)) == model.evaluate(
        x, y, verbose=0, return_dict=True
    )


def test_summary_show_trainable_adds_keras_trainable_column():
    base = fg.Sequential([fg.Input(shape=(3,)), layers.Dense(2)], name="base")
    base.trainable = False
    model = fg.Sequential([fg.Input(shape=(3,)), base, layers.Dropout(0.1), layers.Dense(1)])
    lines = []
    model.summary(show_trainable=True, print_fn=lines.append)
    rows = [line for line in lines[0].splitlines() if line.startswith(("┃", "│"))]
    assert [row.split("┃" if row.startswith("┃") else "│")[4].strip() for row in rows] == [
        "Trainable",
        "N",
        "-",
        "Y",
    ]
    # Every line of the table has the same width, the one asked for when given.
    lines = []
    model.summary(line_length=120, show_trainable=True, print_fn=lines.append)
    table = lines[0].splitlines()[1:-3]
    assert {len(line) for line in table} == {120}
    lines = []
    model.summary(print_fn=lines.append)
    assert "Trainable " not in lines[0].splitlines()[2]


def test_summary_of_a_sequential_model_not_built_yet_lists_its_layers():
    model = fg.Sequential([layers.Embedding(100, 8), layers.Dense(2)], name="unbuilt")
    lines = []
    model.summary(print_fn=lines.append)
    rows = [line for line in lines[0].splitlines() if line.startswith("│")]
    assert [row.split("│")[2:4] for row in rows] == [
        [" ?                      ", "   0 (unbuilt) "],
        [" ?                      ", "   0 (unbuilt) "],
    ]
    assert " Total params: 0 (0.00 B)" in lines[0]
    with pytest.raises(ValueError, match="not built yet"):
        fg.Sequential().summary()


def test_array_inputs_get_keras_rank_adjustment(rng):
    # Keras's functional models: a column of values fits Input(shape=(1,)), and an extra last
    # axis of 1 is squeezed; other ranks are refused.
    model = fg.Sequential([layers.Dense(1, input_shape=(1,))])
    model.compile(optimizer="adam", loss="mae")
    x = rng.standard_normal(40).astype("float32")
    history = model.fit(x, 2 * x, epochs=1, validation_data=(x[:8], 2 * x[:8]), verbose=0)
    assert "val_loss" in history.history
    np.testing.assert_array_equal(model.predict(x, verbose=0), model.predict(x[:, None], verbose=0))
    assert model.evaluate(x, 2 * x, verbose=0) == model.evaluate(x[:, None], 2 * x, verbose=0)

    inputs = [fg.Input(shape=(3,), name="a"), fg.Input(shape=(1,), name="b")]
    both = fg.Model(inputs, layers.concatenate(inputs))
    a, b = rng.standard_normal((5, 3, 1)), rng.standard_normal(5)
    expected = np.concatenate([a[..., 0], b[:, None]], axis=1)
    np.testing.assert_allclose(both.predict([a, b], verbose=0), expected, rtol=1e-6)
    np.testing.assert_allclose(both.predict({"b": b, "a": a}, verbose=0), expected, rtol=1e-6)
    with pytest.raises(ValueError):
        model.predict(rng.standard_normal((4, 2, 2)), verbose=0)

"""The functional API: several inputs, merge layers, shared layers, nested models (keras.io's
"The Functional API" guide's examples that need no multi-output training)."""

import numpy as np
import pytest
from gradcheck import check_gradients

import ferrograd as fg
from ferrograd import layers


def rng(seed=0):
    return np.random.default_rng(seed)


def test_guide_mnist_model_parameter_count():
    inputs = fg.Input(shape=(784,))
    x = layers.Dense(64, activation="relu")(inputs)
    x = layers.Dense(64, activation="relu")(x)
    outputs = layers.Dense(10)(x)
    model = fg.Model(inputs=inputs, outputs=outputs, name="mnist_model")
    assert model.count_params() == 55_050  # the guide's "Total params: 55,050"
    assert model.input is inputs and model.output is outputs
    assert model.get_layer(index=2).output is x
    assert model.layers[1].input is inputs


def test_guide_ticket_model_structure():
    num_tags, num_words, num_departments = 12, 10000, 4
    title_input = fg.Input(shape=(None,), name="title", dtype="int32")
    body_input = fg.Input(shape=(None,), name="body", dtype="int32")
    tags_input = fg.Input(shape=(num_tags,), name="tags")
    title_features = layers.LSTM(128, name="lstm_t")(
        layers.Embedding(num_words, 64, name="emb_t")(title_input)
    )
    body_features = layers.LSTM(32, name="lstm_b")(
        layers.Embedding(num_words, 64, name="emb_b")(body_input)
    )
    x = layers.concatenate([title_features, body_features, tags_input])
    priority_pred = layers.Dense(1, name="priority")(x)
    department_pred = layers.Dense(num_departments, name="department")(x)
    model = fg.Model(
        inputs=[title_input, body_input, tags_input],
        outputs=[priority_pred, department_pred],
    )
    assert x.shape == (None, 172)
    assert model.count_params() == 1_392_097
    assert model.input == [title_input, body_input, tags_input]
    assert model.output == [priority_pred, department_pred]
    r = rng()
    title = r.integers(num_words, size=(3, 10))
    body = r.integers(num_words, size=(3, 7))
    tags = r.integers(2, size=(3, num_tags)).astype("float32")
    priority, department = model([title, body, tags])
    assert priority.shape == (3, 1) and department.shape == (3, 4)
    # The eager layers, called in the same order, give the same values.
    assert [layer.name for layer in model.layers[:5]] == [
        "title",
        "body",
        "tags",
        "emb_t",
        "lstm_t",
    ]
    get = model.get_layer
    t = get("lstm_t")(get("emb_t")(title.astype("float32")))
    b = get("lstm_b")(get("emb_b")(body.astype("float32")))
    joined = np.concatenate([t.numpy(), b.numpy(), tags], axis=-1)
    expected = joined @ model.get_layer("priority").kernel.numpy()
    expected += model.get_layer("priority").bias.numpy()
    np.testing.assert_allclose(priority.numpy(), expected, rtol=1e-5, atol=1e-6)


def test_shared_embedding_is_one_layer_with_two_nodes():
    shared = layers.Embedding(1000, 128)
    a = fg.Input(shape=(None,), dtype="int32")
    b = fg.Input(shape=(None,), dtype="int32")
    encoded_a, encoded_b = shared(a), shared(b)
    merged = layers.subtract(
        [layers.GlobalAveragePooling1D()(encoded_a), layers.GlobalAveragePooling1D()(encoded_b)]
    )
    model = fg.Model(inputs=[a, b], outputs=merged)
    assert model.count_params() == 128_000
    assert sum(layer is shared for layer in model.layers) == 1
    assert shared.output is encoded_a
    ids = rng().integers(1000, size=(2, 5))
    out = model([ids, ids]).numpy()
    np.testing.assert_allclose(out, np.zeros((2, 128)), atol=0)
    table = shared.embeddings.numpy()
    ids_b = rng(1).integers(1000, size=(2, 5))
    expected = table[ids].mean(axis=1) - table[ids_b].mean(axis=1)
    np.testing.assert_allclose(model([ids, ids_b]).numpy(), expected, rtol=1e-5, atol=1e-6)


def test_residual_block_with_add():
    inputs = fg.Input(shape=(8,))
    x = layers.Dense(8, activation="relu")(inputs)
    block_out = layers.Dense(8, activation="relu")(x)
    y = layers.add([block_out, x])
    outputs = layers.Dense(2)(y)
    model = fg.Model(inputs, outputs)
    assert model.count_params() == 72 + 72 + 18
    xv = rng().standard_normal((4, 8)).astype("float32")
    h = model.layers[1](xv).numpy()
    expected = model.layers[4](model.layers[2](h).numpy() + h).numpy()
    np.testing.assert_allclose(model(xv).numpy(), expected, rtol=1e-5, atol=1e-6)


MERGES = [
    (layers.Add, lambda a, b: a + b),
    (layers.Subtract, lambda a, b: a - b),
    (layers.Multiply, lambda a, b: a * b),
    (layers.Average, lambda a, b: (a + b) / 2),
    (layers.Maximum, np.maximum),
    (layers.Minimum, np.minimum),
    (lambda: layers.Concatenate(axis=-1), lambda a, b: np.concatenate([a, b], axis=-1)),
    (lambda: layers.Dot(axes=1), lambda a, b: np.sum(a * b, axis=1, keepdims=True)),
]


@pytest.mark.parametrize(("make", "reference"), MERGES)
def test_merge_layers_equal_numpy_eager_and_symbolic(make, reference):
    r = rng()
    a = r.standard_normal((3, 5)).astype("float32")
    b = r.standard_normal((3, 5)).astype("float32")
    eager = make()([fg.tensor(a), fg.tensor(b)]).numpy()
    np.testing.assert_allclose(eager, reference(a, b), rtol=1e-5, atol=1e-6)
    ia, ib = fg.Input(shape=(5,)), fg.Input(shape=(5,))
    out = make()([ia, ib])
    assert out.shape == (None, *reference(a, b).shape[1:])
    model = fg.Model(inputs=[ia, ib], outputs=out)
    np.testing.assert_allclose(model([a, b]).numpy(), eager, rtol=1e-6, atol=1e-7)


@pytest.mark.parametrize(
    "make",
    [
        layers.Subtract,
        layers.Multiply,
        layers.Average,
        layers.Maximum,
        layers.Minimum,
        lambda: layers.Dot(axes=1, normalize=True),
        lambda: layers.Dot(axes=(2, 1)),
    ],
)
def test_merge_gradients_float64(make):
    r = rng(3)
    layer = make()
    if isinstance(layer, layers.Dot) and layer.axes == [2, 1]:
        shapes = [(2, 3, 4), (2, 4, 2)]
    else:
        shapes = [(2, 4), (2, 4)]
    layer.dtype = "float64"
    check_gradients(lambda x, y: layer([x, y]), *(r.standard_normal(s) for s in shapes))


def test_functional_forms_and_dot_shapes():
    a, b = fg.Input(shape=(4, 3)), fg.Input(shape=(4, 5))
    assert layers.dot([a, b], axes=1).shape == (None, 3, 5)
    c, d = fg.Input(shape=(4,)), fg.Input(shape=(4,))
    for form in (layers.multiply, layers.average, layers.maximum, layers.minimum):
        assert form([c, d]).shape == (None, 4)
    assert layers.concatenate([c, d], axis=1).shape == (None, 8)


def test_errors_name_layer_and_shapes():
    a, b = fg.Input(shape=(3,)), fg.Input(shape=(4,))
    with pytest.raises(ValueError, match=r"Add.*\(None, 3\), \(None, 4\)"):
        layers.Add()([a, b])
    with pytest.raises(ValueError, match="axis"):
        layers.Concatenate(axis=0)([a, b])
    with pytest.raises(ValueError, match="axis"):
        layers.Concatenate(axis=3)([a, b])
    with pytest.raises(ValueError, match="exactly 2"):
        layers.Subtract()([a, a, a])
    c = fg.Input(shape=(3,), name="forgotten")
    out = layers.add([a, c])
    with pytest.raises(ValueError, match="disconnected.*forgotten"):
        fg.Model(inputs=a, outputs=out)
    with pytest.raises(ValueError, match="initial_state"):
        layers.LSTM(4)(fg.Input(shape=(5, 3)), initial_state=[a, a])


def test_feature_extraction_with_several_outputs():
    inputs = fg.Input(shape=(6,))
    h1 = layers.Dense(5, activation="relu")(inputs)
    h2 = layers.Dense(4)(h1)
    model = fg.Model(inputs, layers.Dense(2)(h2))
    extractor = fg.Model(inputs=model.inputs, outputs=[layer.output for layer in model.layers[1:]])
    x = rng().standard_normal((3, 6)).astype("float32")
    features = extractor(x)
    assert [f.shape for f in features] == [(3, 5), (3, 4), (3, 2)]
    np.testing.assert_allclose(features[-1].numpy(), model(x).numpy(), rtol=1e-6)
    np.testing.assert_allclose(features[0].numpy(), model.layers[1](x).numpy(), rtol=1e-6)


def test_return_state_gives_several_outputs():
    inputs = fg.Input(shape=(5, 3))
    output, h, c = layers.LSTM(4, return_state=True)(inputs)
    assert output.shape == h.shape == c.shape == (None, 4)
    model = fg.Model(inputs, [output, c])
    x = rng().standard_normal((2, 5, 3)).astype("float32")
    out, cell = model(x)
    eager = model.layers[1](x)
    assert isinstance(eager, list) and len(eager) == 3
    np.testing.assert_allclose(out.numpy(), eager[0].numpy(), rtol=1e-6)
    np.testing.assert_allclose(cell.numpy(), eager[2].numpy(), rtol=1e-6)


def base_and_model():
    base = fg.Sequential(
        [layers.Dense(8, activation="relu", input_shape=(4,)), layers.Dense(6)], name="base"
    )
    inputs = fg.Input(shape=(4,))
    x = base(inputs, training=False)
    outputs = layers.Dense(1, name="head")(x)
    return base, fg.Model(inputs, outputs, name="outer")


def test_nested_model_frozen_then_unfrozen():
    base, model = base_and_model()
    assert model.count_params() == 40 + 54 + 7
    r = rng()
    x = r.standard_normal((32, 4)).astype("float32")
    y = r.standard_normal((32, 1)).astype("float32")
    expected = model.get_layer("head")(base(x)).numpy()
    np.testing.assert_allclose(model(x).numpy(), expected, rtol=1e-6)
    base.trainable = False
    assert len(model.trainable_weights) == 2
    before = base.get_weights()
    head_before = model.get_layer("head").get_weights()
    model.compile(optimizer="sgd", loss="mse")
    model.fit(x, y, epochs=1, batch_size=8, verbose=0)
    for old, new in zip(before, base.get_weights(), strict=True):
        np.testing.assert_array_equal(old, new)
    assert not np.array_equal(head_before[0], model.get_layer("head").get_weights()[0])
    base.trainable = True
    assert len(model.trainable_weights) == 6
    model.fit(x, y, epochs=1, batch_size=8, verbose=0)
    assert not np.array_equal(before[0], base.get_weights()[0])


def test_nested_in_sequential_and_summary():
    base, _ = base_and_model()
    model = fg.Sequential([base, layers.Dense(3, name="top")], name="stack")
    x = rng().standard_normal((2, 4)).astype("float32")
    np.testing.assert_allclose(model(x).numpy(), model.get_layer("top")(base(x)).numpy(), rtol=1e-6)
    text = []
    model.summary(print_fn=text.append)
    rows = [line for line in text[0].splitlines() if line.startswith("│")]
    assert len(rows) == 2
    assert "base (Sequential)" in rows[0] and "(None, 6)" in rows[0] and "94" in rows[0]
    assert "Total params: 115" in text[0]
    _, functional = base_and_model()
    outer = fg.Sequential([functional], name="wrapper")
    text = []
    outer.summary(print_fn=text.append)
    assert "outer (Functional)" in text[0] and "101" in text[0]


def test_save_load_nested_and_multi_input(tmp_path):
    _, model = base_and_model()
    x = rng().standard_normal((3, 4)).astype("float32")
    model.save(tmp_path / "nested.fgm")
    loaded = fg.models.load_model(tmp_path / "nested.fgm")
    np.testing.assert_array_equal(loaded(x).numpy(), model(x).numpy())
    a, b = fg.Input(shape=(4,)), fg.Input(shape=(3,))
    out = layers.Dense(2)(layers.concatenate([layers.Dense(3)(a), b]))
    two = fg.Model([a, b], out)
    xb = rng(1).standard_normal((3, 3)).astype("float32")
    two.save(tmp_path / "two.fgm")
    loaded = fg.models.load_model(tmp_path / "two.fgm")
    np.testing.assert_array_equal(loaded([x, xb]).numpy(), two([x, xb]).numpy())


def test_a_built_sequential_model_is_a_graph_of_symbolic_calls():
    # As in Keras: layer.output and model.inputs of a Sequential model make feature extractors,
    # and a rebuild (pop, add) forgets the calls of the earlier build.
    model = fg.Sequential([fg.Input(shape=(4,)), layers.Dense(3, activation="relu")])
    model.add(layers.Dense(5))
    model.add(layers.Dense(7))
    model.pop()
    extractor = fg.Model(inputs=model.inputs, outputs=[layer.output for layer in model.layers])
    x = rng().standard_normal((2, 4)).astype("float32")
    hidden, out = extractor.predict(x, verbose=0)
    assert hidden.shape == (2, 3)
    np.testing.assert_allclose(out, model.predict(x, verbose=0), rtol=1e-6)
    np.testing.assert_allclose(hidden, model.layers[0](x).numpy(), rtol=1e-6)
    assert model.outputs[0] is model.layers[-1].output
    assert fg.Sequential([layers.Dense(2)]).inputs is None  # not built yet
    # Popped out entirely, the model has no symbolic ends and the layers no calls left.
    last = model.pop()
    model.pop()
    assert model.inputs is None and model.outputs is None
    with pytest.raises(ValueError, match="never been called"):
        _ = last.output


def test_trainable_set_on_a_model_reaches_the_layers_of_nested_models():
    inner = fg.Sequential([fg.Input(shape=(3,)), layers.Dense(3), layers.Dense(3)])
    outer = fg.Sequential([fg.Input(shape=(3,)), inner, layers.Dense(2)])
    outer.trainable = False
    assert inner.trainable is False
    assert [layer.trainable for layer in inner.layers] == [False, False]
    assert outer.layers[-1].trainable is False and outer.trainable_weights == []
    outer.trainable = True
    assert inner.layers[0].trainable is True and len(outer.trainable_weights) == 6

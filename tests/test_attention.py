"""The attention layers: gradients (float64 finite differences, inputs and every weight, with
masks), equality with Keras 3 and PyTorch on copied weights, use in functional models, and
clear errors."""

import numpy as np
import pytest
from gradcheck import ATOL, RTOL, numeric_gradients

import ferrograd as fg
from ferrograd import layers

keras = pytest.importorskip("keras")
torch = pytest.importorskip("torch")


def to_numpy(x):
    return keras.ops.convert_to_numpy(x)


@pytest.fixture
def rng():
    return np.random.default_rng(0)


def check_layer_gradients(layer, call, *inputs, seed=0):
    """Checks the gradients of ``sum(call(*inputs) * w)`` with respect to the inputs and every
    weight of ``layer`` (a float64 layer) against central differences."""
    arrays = [np.array(a, dtype=np.float64) for a in inputs]
    tensors = [fg.tensor(a, dtype="float64", requires_grad=True) for a in arrays]
    out = call(*tensors)
    weights = np.random.default_rng(seed).uniform(-1.0, 1.0, size=out.shape)
    for w in layer.weights:
        w.grad = None
    (out * fg.tensor(weights, dtype="float64")).sum().backward()
    analytic = [t.grad.numpy() for t in tensors] + [w.grad.numpy() for w in layer.weights]
    numeric = numeric_gradients(call, arrays, weights)
    values = layer.get_weights()

    def objective(which, moved):
        trial = list(values)
        trial[which] = moved
        layer.set_weights(trial)
        with fg.no_grad():
            out = call(*[fg.tensor(a, dtype="float64") for a in arrays]).numpy()
        return float(np.sum(out * weights))

    for which, value in enumerate(values):
        grad = np.zeros_like(value)
        for index in np.ndindex(value.shape):
            up, down = value.copy(), value.copy()
            up[index] += 1e-6
            down[index] -= 1e-6
            grad[index] = (objective(which, up) - objective(which, down)) / 2e-6
        numeric.append(grad)
    layer.set_weights(values)
    names = [f"input {i}" for i in range(len(arrays))]
    names += [name for name, _, _ in layer._core.weights()]
    for name, a, n in zip(names, analytic, numeric, strict=True):
        assert a.shape == n.shape, name
        np.testing.assert_allclose(a, n, rtol=RTOL * 10, atol=ATOL * 10, err_msg=name)


# --- MultiHeadAttention ------------------------------------------------------------------------


def keras_and_ferrograd_mha(query_shape, value_shape, key_shape=None, **arguments):
    kwargs = {"query_shape": query_shape, "value_shape": value_shape}
    if key_shape is not None:
        kwargs["key_shape"] = key_shape
    theirs = keras.layers.MultiHeadAttention(**arguments)
    theirs.build(**kwargs)
    ours = layers.MultiHeadAttention(**arguments)
    ours.compute_output_shape(
        (None, *query_shape[1:]),
        (None, *value_shape[1:]),
        None if key_shape is None else (None, *key_shape[1:]),
    )
    assert [w.path.split("/", 1)[1] for w in theirs.weights] == [
        name for name, _, _ in ours._core.weights()
    ]
    ours.set_weights([to_numpy(w) for w in theirs.weights])
    return theirs, ours


@pytest.mark.parametrize(
    "arguments",
    [
        {"num_heads": 2, "key_dim": 3},
        {"num_heads": 3, "key_dim": 2, "value_dim": 4, "output_shape": 5},
        {"num_heads": 1, "key_dim": 4, "use_bias": False},
    ],
)
def test_mha_equals_keras_on_copied_weights(rng, arguments):
    q = rng.standard_normal((2, 4, 6)).astype("float32")
    v = rng.standard_normal((2, 5, 3)).astype("float32")
    k = rng.standard_normal((2, 5, 7)).astype("float32")
    theirs, ours = keras_and_ferrograd_mha(q.shape, v.shape, k.shape, **arguments)
    expected, expected_scores = theirs(q, v, k, return_attention_scores=True)
    got, scores = ours(q, v, k, return_attention_scores=True)
    np.testing.assert_allclose(got.numpy(), to_numpy(expected), atol=2e-6)
    np.testing.assert_allclose(scores.numpy(), to_numpy(expected_scores), atol=2e-6)
    assert got.shape == (2, 4, arguments.get("output_shape", 6))


def test_mha_masks_equal_keras(rng):
    q = rng.standard_normal((2, 4, 6)).astype("float32")
    v = rng.standard_normal((2, 5, 6)).astype("float32")
    theirs, ours = keras_and_ferrograd_mha(q.shape, v.shape, num_heads=2, key_dim=3)
    query_mask = np.array([[1, 1, 1, 0], [1, 1, 0, 0]], bool)
    value_mask = np.array([[1, 1, 0, 1, 0], [1, 0, 1, 1, 1]], bool)
    attention_mask = rng.random((2, 4, 5)) > 0.3
    for causal in (False, True):
        # Keras reads the query's mask from the tensor (it overwrites query_mask=), and removes
        # it from the tensor after the call.
        masked_query = torch.tensor(q)
        keras.src.backend.set_keras_mask(masked_query, torch.tensor(query_mask))
        expected = theirs(masked_query, v, value_mask=value_mask, use_causal_mask=causal)
        got = ours(q, v, query_mask=query_mask, value_mask=value_mask, use_causal_mask=causal)
        np.testing.assert_allclose(got.numpy(), to_numpy(expected), atol=2e-6)
    expected = theirs(q, v, attention_mask=attention_mask, use_causal_mask=True)
    got = ours(q, v, attention_mask=attention_mask, use_causal_mask=True)
    np.testing.assert_allclose(got.numpy(), to_numpy(expected), atol=2e-6)
    # Masked steps change the result (the masks are not ignored).
    assert not np.allclose(ours(q, v).numpy(), got.numpy(), atol=1e-3)


def test_mha_equals_torch_multihead_attention(rng):
    embed, heads = 8, 2
    head = embed // heads
    q = rng.standard_normal((3, 4, embed)).astype("float32")
    kv = rng.standard_normal((3, 6, embed)).astype("float32")
    theirs = torch.nn.MultiheadAttention(embed, heads, batch_first=True)
    ours = layers.MultiHeadAttention(heads, head)
    ours.compute_output_shape((None, 4, embed), (None, 6, embed))
    # torch packs the three input projections as rows of one (3 * embed, embed) matrix, each
    # (out, in); Keras's kernels are (in, heads, head_dim).
    packed = theirs.in_proj_weight.detach().numpy()
    bias = theirs.in_proj_bias.detach().numpy()
    with torch.no_grad():
        theirs.in_proj_bias.copy_(torch.tensor(rng.standard_normal(3 * embed)))
        theirs.out_proj.bias.copy_(torch.tensor(rng.standard_normal(embed)))
    bias = theirs.in_proj_bias.detach().numpy()
    weights = []
    for i in range(3):
        weights.append(packed[i * embed : (i + 1) * embed].T.reshape(embed, heads, head))
        weights.append(bias[i * embed : (i + 1) * embed].reshape(heads, head))
    weights.append(theirs.out_proj.weight.detach().numpy().T.reshape(heads, head, embed))
    weights.append(theirs.out_proj.bias.detach().numpy())
    ours.set_weights(weights)
    padding = np.zeros((3, 6), bool)
    padding[1, 4:] = True  # torch's key_padding_mask: True = ignore
    expected, probabilities = theirs(
        torch.tensor(q), torch.tensor(kv), torch.tensor(kv), key_padding_mask=torch.tensor(padding)
    )
    got, scores = ours(q, kv, value_mask=~padding, return_attention_scores=True)
    np.testing.assert_allclose(got.numpy(), expected.detach().numpy(), atol=2e-6)
    np.testing.assert_allclose(
        scores.numpy().mean(axis=1), probabilities.detach().numpy(), atol=2e-6
    )


def test_mha_gradients_with_masks_and_causal_mask(rng):
    mha = layers.MultiHeadAttention(2, 2, value_dim=3, dtype="float64")
    query_mask = np.array([[1, 1, 0], [1, 1, 1]], bool)
    value_mask = np.array([[1, 0, 1, 1], [1, 1, 1, 0]], bool)
    attention_mask = np.ones((2, 3, 4), bool)
    attention_mask[0, 1, 3] = False

    def call(q, v, k):
        return mha(
            q,
            v,
            k,
            query_mask=query_mask,
            value_mask=value_mask,
            attention_mask=attention_mask,
            use_causal_mask=True,
        )

    check_layer_gradients(
        mha,
        call,
        rng.standard_normal((2, 3, 4)),
        rng.standard_normal((2, 4, 3)),
        rng.standard_normal((2, 4, 5)),
    )


def test_mha_functional_model_with_embedding_masks_equals_keras_and_trains():
    steps, vocab, embed = 8, 30, 8

    def build(api, model_class):
        tokens = api.Input(shape=(steps,), dtype="int32")
        h = api.Embedding(vocab, embed, mask_zero=True, name="embedding")(tokens)
        h = api.MultiHeadAttention(2, 4, name="attention")(h, h)
        h = api.GlobalAveragePooling1D()(h)
        return model_class(tokens, api.Dense(2, activation="softmax", name="out")(h))

    fg.set_seed(0)
    ours, theirs = build(layers, fg.Model), build(keras.layers, keras.Model)
    for layer in theirs.layers:
        if layer.weights:
            ours.get_layer(layer.name).set_weights([to_numpy(w) for w in layer.weights])
    rng = np.random.default_rng(1)
    x = rng.integers(1, vocab, size=(64, steps))
    x[:, 5:] = 0
    x[3, 2:] = 0
    np.testing.assert_allclose(ours.predict(x, verbose=0), to_numpy(theirs(x)), atol=2e-6)
    # The padding is masked: changing the embedding of id 0 changes nothing.
    table = ours.get_layer("embedding").get_weights()[0]
    table[0] = 5.0
    before = ours.predict(x, verbose=0)
    ours.get_layer("embedding").set_weights([table])
    np.testing.assert_allclose(ours.predict(x, verbose=0), before, atol=1e-6)
    y = (x[:, 0] > 15).astype("int64")
    ours.compile(fg.optimizers.Adam(learning_rate=0.02), "sparse_categorical_crossentropy")
    history = ours.fit(x, y, epochs=20, batch_size=16, verbose=0).history["loss"]
    assert history[-1] < history[0] * 0.9, history


def test_mha_in_a_model_with_causal_mask_and_scores():
    x = layers.Input(shape=(5, 4))
    out, scores = layers.MultiHeadAttention(2, 3, name="mha")(
        x, x, use_causal_mask=True, return_attention_scores=True
    )
    assert scores.shape == (None, 2, 5, 5)
    model = fg.Model(x, [out, scores])
    data = np.random.default_rng(2).standard_normal((3, 5, 4)).astype("float32")
    got, probabilities = model.predict(data, verbose=0)
    assert np.all(np.triu(probabilities, 1) == 0)
    np.testing.assert_allclose(probabilities.sum(-1), 1.0, atol=1e-6)
    direct = model.get_layer("mha")(data, data, use_causal_mask=True)
    np.testing.assert_allclose(got, direct.numpy(), atol=1e-6)
    with pytest.raises(ValueError, match="use_causal_mask=False is not supported"):
        model.get_layer("mha")(data, data)


def test_mha_dropout_is_seeded_and_training_only(rng):
    x = rng.standard_normal((2, 6, 4)).astype("float32")
    mha = layers.MultiHeadAttention(2, 2, dropout=0.5)
    inference = mha(x, x).numpy()
    np.testing.assert_array_equal(mha(x, x, training=False).numpy(), inference)
    fg.set_seed(3)
    first = mha(x, x, training=True).numpy()
    fg.set_seed(3)
    np.testing.assert_array_equal(mha(x, x, training=True).numpy(), first)
    assert not np.allclose(first, inference)


def test_mha_bad_arguments_and_inputs_raise_clear_errors(rng):
    with pytest.raises(ValueError, match="key_dim must be a positive integer"):
        layers.MultiHeadAttention(2, 0)
    with pytest.raises(ValueError, match="num_heads"):
        layers.MultiHeadAttention(-1, 2)
    with pytest.raises(ValueError, match="attention_axes"):
        layers.MultiHeadAttention(2, 2, attention_axes=(1, 2))
    with pytest.raises(ValueError, match="kernel_constraint"):
        layers.MultiHeadAttention(2, 2, kernel_constraint="non_neg")
    mha = layers.MultiHeadAttention(2, 2)
    with pytest.raises(ValueError, match="must be 3-D"):
        mha(np.ones((2, 3), "float32"), np.ones((2, 3), "float32"))
    with pytest.raises(ValueError, match="same length"):
        mha(np.ones((2, 3, 4), "float32"), np.ones((2, 5, 4), "float32"), np.ones((2, 4, 4)))
    with pytest.raises(ValueError, match="attention_mask"):
        mha(np.ones((2, 3, 4), "float32"), np.ones((2, 5, 4)), attention_mask=np.ones((2, 3, 4)))
    x = layers.Input(shape=(3, 4))
    with pytest.raises(ValueError, match="same length"):
        layers.MultiHeadAttention(2, 2)(x, layers.Input(shape=(5, 4)), layers.Input(shape=(6, 4)))


# --- Attention and AdditiveAttention -----------------------------------------------------------


LUONG_CASES = [
    ("Attention", {}),
    ("Attention", {"use_scale": True}),
    ("Attention", {"score_mode": "concat", "use_scale": True}),
    ("AdditiveAttention", {}),
    ("AdditiveAttention", {"use_scale": False}),
]


def keras_and_ferrograd(name, arguments, shapes):
    theirs = getattr(keras.layers, name)(**arguments)
    theirs.build([(None, *s[1:]) for s in shapes])
    ours = getattr(layers, name)(**arguments)
    ours.compute_output_shape([(None, *s[1:]) for s in shapes])
    values = [to_numpy(w) for w in theirs.weights]
    # Keras's scalar weights are random-free (ones): give them other values to test them.
    values = [v * 1.7 if v.ndim == 0 else v for v in values]
    for variable, value in zip(theirs.weights, values, strict=True):
        variable.assign(value)
    ours.set_weights(values)
    return theirs, ours


@pytest.mark.parametrize(("name", "arguments"), LUONG_CASES)
def test_luong_and_additive_attention_equal_keras(rng, name, arguments):
    q = rng.standard_normal((2, 4, 3)).astype("float32")
    v = rng.standard_normal((2, 5, 2)).astype("float32")
    k = rng.standard_normal((2, 5, 3)).astype("float32")
    theirs, ours = keras_and_ferrograd(name, arguments, [q.shape, v.shape, k.shape])
    query_mask = np.array([[1, 1, 0, 1], [1, 1, 1, 1]], bool)
    value_mask = np.array([[1, 0, 1, 1, 0], [1, 1, 1, 0, 1]], bool)
    for causal in (False, True):
        expected, expected_scores = theirs(
            [q, v, k],
            mask=[query_mask, value_mask],
            return_attention_scores=True,
            use_causal_mask=causal,
        )
        got, scores = ours(
            [q, v, k],
            mask=[query_mask, value_mask],
            return_attention_scores=True,
            use_causal_mask=causal,
        )
        np.testing.assert_allclose(got.numpy(), to_numpy(expected), atol=2e-6)
        np.testing.assert_allclose(scores.numpy(), to_numpy(expected_scores), atol=2e-6)
    np.testing.assert_allclose(
        ours([q, k]).numpy(), to_numpy(theirs([q, k])), atol=2e-6, err_msg="key = value"
    )


@pytest.mark.parametrize(("name", "arguments"), LUONG_CASES)
def test_luong_and_additive_attention_gradients(rng, name, arguments):
    layer = getattr(layers, name)(**arguments, dtype="float64")
    query_mask = np.array([[1, 0, 1], [1, 1, 1]], bool)
    value_mask = np.array([[1, 1, 0, 1], [0, 1, 1, 1]], bool)
    if layer.use_scale and name == "Attention":
        layer.compute_output_shape([(None, 3, 2), (None, 4, 3), (None, 4, 2)])
        layer.set_weights([w * 1.3 for w in layer.get_weights()])

    def call(q, v, k):
        return layer([q, v, k], mask=[query_mask, value_mask], use_causal_mask=True)

    check_layer_gradients(
        layer,
        call,
        rng.standard_normal((2, 3, 2)),
        rng.standard_normal((2, 4, 3)),
        rng.standard_normal((2, 4, 2)),
    )


def test_attention_in_a_model_with_embedding_masks_equals_keras():
    steps, vocab = 6, 20

    def build(api, model_class):
        tokens = api.Input(shape=(steps,), dtype="int32")
        h = api.Embedding(vocab, 4, mask_zero=True, name="embedding")(tokens)
        h = api.AdditiveAttention(name="attention")([h, h])
        h = api.Attention(use_scale=True, name="luong")([h, h])
        return model_class(tokens, api.GlobalAveragePooling1D()(h))

    ours, theirs = build(layers, fg.Model), build(keras.layers, keras.Model)
    for layer in theirs.layers:
        if layer.weights:
            ours.get_layer(layer.name).set_weights([to_numpy(w) for w in layer.weights])
    x = np.random.default_rng(3).integers(1, vocab, size=(5, steps))
    x[:, 4:] = 0
    np.testing.assert_allclose(ours.predict(x, verbose=0), to_numpy(theirs(x)), atol=2e-6)


def test_luong_attention_bad_inputs_raise_clear_errors():
    with pytest.raises(ValueError, match="score_mode"):
        layers.Attention(score_mode="general")
    with pytest.raises(ValueError, match="list of inputs"):
        layers.Attention()(np.ones((2, 3, 4)))
    with pytest.raises(ValueError, match="same last dimension"):
        layers.Attention()([np.ones((2, 3, 4)), np.ones((2, 5, 4)), np.ones((2, 5, 3))])
    with pytest.raises(ValueError, match="same length"):
        layers.AdditiveAttention()([np.ones((2, 3, 4)), np.ones((2, 5, 4)), np.ones((2, 6, 4))])
    with pytest.raises(ValueError, match="3-D"):
        layers.Attention()([np.ones((2, 4)), np.ones((2, 4))])


def test_onnx_export_names_the_attention_layer_it_cannot_write():
    pytest.importorskip("onnx")
    x = layers.Input(shape=(5, 4))
    y = layers.MultiHeadAttention(2, 2, name="mha")(x, x)
    model = fg.Model(x, layers.GlobalAveragePooling1D()(y))
    with pytest.raises(ValueError, match="'mha' \\(MultiHeadAttention\\) cannot be exported"):
        fg.onnx.export(model, "unused.onnx")


def test_keras_weights_file_of_attention_layers_loads(tmp_path):
    pytest.importorskip("h5py")

    def build(api, model_class):
        x = api.Input(shape=(5, 4))
        h = api.MultiHeadAttention(2, 3, name="mha")(x, x)
        h = api.Attention(use_scale=True, name="luong")([h, h])
        h = api.AdditiveAttention(name="additive")([h, h])
        return model_class(x, api.GlobalAveragePooling1D()(h))

    theirs, ours = build(keras.layers, keras.Model), build(layers, fg.Model)
    path = str(tmp_path / "attention.weights.h5")
    theirs.save_weights(path)
    ours.load_weights(path)
    x = np.random.default_rng(0).standard_normal((2, 5, 4)).astype("float32")
    np.testing.assert_allclose(ours.predict(x, verbose=0), to_numpy(theirs(x)), atol=2e-6)


def test_a_model_of_attention_layers_saves_and_loads_with_its_call_settings(tmp_path):
    tokens = layers.Input(shape=(6,), dtype="int32")
    h = layers.Embedding(10, 4, mask_zero=True)(tokens)
    h = layers.MultiHeadAttention(2, 2, name="mha")(h, h, use_causal_mask=True)
    h = layers.Attention(name="luong")([h, h], use_causal_mask=True)
    h = layers.AdditiveAttention(name="additive")([h, h])
    model = fg.Model(tokens, layers.GlobalAveragePooling1D()(h))
    x = np.random.default_rng(0).integers(0, 10, (3, 6))
    path = str(tmp_path / "attention.keras")
    model.save(path)
    loaded = fg.models.load_model(path)
    assert loaded.get_layer("mha").use_causal_mask
    assert loaded.get_layer("luong").use_causal_mask
    assert not loaded.get_layer("additive").use_causal_mask
    np.testing.assert_array_equal(loaded.predict(x, verbose=0), model.predict(x, verbose=0))


def test_a_keras_model_file_with_attention_layers_loads(tmp_path):
    pytest.importorskip("h5py")
    # (Keras writes a model's masks for Attention as ConvertToTensor layers, which ferrograd
    # does not read: no masks here.)
    tokens = keras.Input(shape=(6, 4))
    h = keras.layers.MultiHeadAttention(2, 3, name="mha")(tokens, tokens, use_causal_mask=True)
    h = keras.layers.Attention(use_scale=True, name="luong")([h, h])
    h = keras.layers.AdditiveAttention(name="additive")([h, h])
    theirs = keras.Model(tokens, keras.layers.GlobalAveragePooling1D()(h))
    path = str(tmp_path / "attention.keras")
    theirs.save(path)
    ours = fg.models.load_model(path)
    assert ours.get_layer("mha").use_causal_mask
    x = np.random.default_rng(0).standard_normal((3, 6, 4)).astype("float32")
    np.testing.assert_allclose(ours.predict(x, verbose=0), to_numpy(theirs(x)), atol=2e-6)

"""Recurrent layers: outputs equal a plain numpy implementation of Keras's cell equations for
the same weights, float64 gradients against finite differences, masking, Bidirectional,
return_state, and the classic Keras text classifier."""

import numpy as np
import pytest

import ferrograd as fg
from ferrograd import layers

KINDS = {"SimpleRNN": layers.SimpleRNN, "LSTM": layers.LSTM, "GRU": layers.GRU}


def sigmoid(z):
    return 1 / (1 + np.exp(-z))


def keras_step(kind, x_t, states, kernel, recurrent_kernel, bias):
    """One step of Keras's cell: ``(output, new_states)``."""
    if kind == "SimpleRNN":
        h = np.tanh(x_t @ kernel + bias + states[0] @ recurrent_kernel)
        return h, [h]
    if kind == "LSTM":
        h, c = states
        z = x_t @ kernel + h @ recurrent_kernel + bias
        i, f, g, o = np.split(z, 4, axis=-1)
        c = sigmoid(f) * c + sigmoid(i) * np.tanh(g)
        h = sigmoid(o) * np.tanh(c)
        return h, [h, c]
    (h,) = states
    x_z, x_r, x_h = np.split(x_t @ kernel + bias[0], 3, axis=-1)
    r_z, r_r, r_h = np.split(h @ recurrent_kernel + bias[1], 3, axis=-1)
    z, r = sigmoid(x_z + r_z), sigmoid(x_r + r_r)
    candidate = np.tanh(x_h + r * r_h)
    h = z * h + (1 - z) * candidate
    return h, [h]


def keras_rnn(
    kind,
    x,
    weights,
    mask=None,
    go_backwards=False,
    return_sequences=False,
    zero_output_for_mask=False,
):
    """Keras's ``backend.rnn``: scan over time; at a masked step the states stay and the output
    repeats the previous one (or is zero). Returns ``(output, final_states)``."""
    x = np.asarray(x, dtype=np.float64)
    weights = [np.asarray(w, dtype=np.float64) for w in weights]
    batch, steps, _ = x.shape
    units = weights[1].shape[0]
    states = [np.zeros((batch, units)) for _ in range(2 if kind == "LSTM" else 1)]
    outputs = []
    for t in reversed(range(steps)) if go_backwards else range(steps):
        output, new_states = keras_step(kind, x[:, t], states, *weights)
        if mask is not None:
            kept = mask[:, t][:, None]
            output = np.where(kept, output, 0.0 if zero_output_for_mask else states[0])
            new_states = [np.where(kept, n, s) for n, s in zip(new_states, states, strict=True)]
        outputs.append(output)
        states = new_states
    outputs = np.stack(outputs, axis=1)
    return (outputs if return_sequences else outputs[:, -1]), states


def sample_mask(batch, steps, rng):
    mask = rng.random((batch, steps)) > 0.35
    mask[0, :2] = False  # a row that starts with padding
    mask[-1] = True
    return mask


CASES = [
    {},
    {"return_sequences": True},
    {"go_backwards": True},
    {"return_sequences": True, "go_backwards": True},
]


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("options", CASES)
@pytest.mark.parametrize("masked", [False, True])
def test_float64_equals_keras_equations(kind, options, masked, rng):
    x = rng.standard_normal((4, 6, 3))
    mask = sample_mask(4, 6, rng) if masked else None
    layer = KINDS[kind](5, return_state=True, dtype="float64", **options)
    output, *states = layer(x, mask=mask)
    expected, expected_states = keras_rnn(kind, x, layer.get_weights(), mask=mask, **options)
    np.testing.assert_allclose(output.numpy(), expected, rtol=0, atol=1e-10)
    assert len(states) == len(expected_states)
    for got, want in zip(states, expected_states, strict=True):
        np.testing.assert_allclose(got.numpy(), want, rtol=0, atol=1e-10)


@pytest.mark.parametrize("kind", KINDS)
def test_float32_equals_keras_equations(kind, rng):
    x = rng.standard_normal((8, 12, 6)).astype("float32")
    mask = sample_mask(8, 12, rng)
    layer = KINDS[kind](16, return_sequences=True)
    # Bias values away from zero exercise the bias layout too.
    layer.build((None, 12, 6))
    layer.set_weights([w + rng.standard_normal(w.shape) * 0.3 for w in layer.get_weights()])
    output = layer(x, mask=mask).numpy()
    assert output.dtype == np.float32
    expected, _ = keras_rnn(kind, x, layer.get_weights(), mask=mask, return_sequences=True)
    np.testing.assert_allclose(output, expected, rtol=0, atol=2e-5)


def test_keras_defaults_and_weight_layout():
    lstm = layers.LSTM(4)
    lstm.build((None, 7, 3))
    kernel, recurrent_kernel, bias = lstm.get_weights()
    assert kernel.shape == (3, 16) and recurrent_kernel.shape == (4, 16) and bias.shape == (16,)
    np.testing.assert_array_equal(bias, [0] * 4 + [1] * 4 + [0] * 8)  # unit_forget_bias
    # The recurrent kernel starts (semi-)orthogonal: its rows are orthonormal.
    np.testing.assert_allclose(recurrent_kernel @ recurrent_kernel.T, np.eye(4), atol=1e-5)
    gru = layers.GRU(4)
    gru.build((None, 7, 3))
    assert [w.shape for w in gru.get_weights()] == [(3, 12), (4, 12), (2, 12)]
    simple = layers.SimpleRNN(4, use_bias=False)
    simple.build((None, 7, 3))
    assert [w.shape for w in simple.get_weights()] == [(3, 4), (4, 4)]
    assert lstm.count_params() == 4 * (3 * 4 + 4 * 4 + 4)


def finite_difference_check(function, tensors, eps=1e-6, rtol=1e-6, atol=1e-8):
    """Central differences of ``sum(function() * w)`` against backward, for float64 tensors."""
    out = function()
    weights = np.random.default_rng(7).standard_normal(out.shape)
    for t in tensors:
        t.grad = None
    (out * fg.tensor(weights, dtype="float64")).sum().backward()
    for t in tensors:
        analytic = t.grad.numpy()
        values = t.numpy().copy()
        numeric = np.zeros_like(values)
        for index in np.ndindex(values.shape):
            for sign in (1, -1):
                moved = values.copy()
                moved[index] += sign * eps
                fg._core.assign(t, moved)
                with fg.no_grad():
                    numeric[index] += sign * float((function().numpy() * weights).sum())
            numeric[index] /= 2 * eps
        fg._core.assign(t, values)
        np.testing.assert_allclose(analytic, numeric, rtol=rtol, atol=atol)


@pytest.mark.parametrize(
    ("kind", "options"),
    [("LSTM", {"return_sequences": True}), ("GRU", {"go_backwards": True}), ("SimpleRNN", {})],
)
def test_gradients_through_the_layers_match_finite_differences(kind, options, rng):
    layer = KINDS[kind](3, dtype="float64", **options)
    x = fg.tensor(rng.standard_normal((2, 4, 3)), dtype="float64", requires_grad=True)
    mask = np.array([[False, True, True, False], [True, True, True, True]])
    layer.build((None, 4, 3))
    finite_difference_check(lambda: layer(x, mask=mask), [x, *layer.weights])


def test_bidirectional_gradients_match_finite_differences(rng):
    layer = layers.Bidirectional(layers.LSTM(2, return_sequences=True, dtype="float64"))
    x = fg.tensor(rng.standard_normal((2, 3, 2)), dtype="float64", requires_grad=True)
    mask = np.array([[True, True, False], [True, True, True]])
    layer.build((None, 3, 2))
    finite_difference_check(lambda: layer(x, mask=mask), [x, *layer.weights])


@pytest.mark.parametrize("merge_mode", ["concat", "sum", "ave", "mul"])
@pytest.mark.parametrize("return_sequences", [False, True])
def test_bidirectional_equals_keras(merge_mode, return_sequences, rng):
    x = rng.standard_normal((3, 5, 4))
    mask = sample_mask(3, 5, rng)
    layer = layers.Bidirectional(
        layers.GRU(3, return_sequences=return_sequences, dtype="float64"), merge_mode=merge_mode
    )
    out = layer(x, mask=mask).numpy()
    forward_weights, backward_weights = layer.get_weights()[:3], layer.get_weights()[3:]
    options = {"mask": mask, "return_sequences": return_sequences}
    # Keras forces zero outputs at masked steps when the halves return sequences.
    options["zero_output_for_mask"] = return_sequences
    y, _ = keras_rnn("GRU", x, forward_weights, **options)
    y_rev, _ = keras_rnn("GRU", x, backward_weights, go_backwards=True, **options)
    if return_sequences:
        y_rev = y_rev[:, ::-1]
    expected = {
        "concat": np.concatenate([y, y_rev], axis=-1),
        "sum": y + y_rev,
        "ave": (y + y_rev) / 2,
        "mul": y * y_rev,
    }[merge_mode]
    np.testing.assert_allclose(out, expected, rtol=0, atol=1e-10)
    names = [name for name, _, _ in layer._weight_entries()]
    assert names[:3] == ["forward_gru/kernel", "forward_gru/recurrent_kernel", "forward_gru/bias"]
    assert names[3] == "backward_gru/kernel"


def test_bidirectional_return_state_and_separate_outputs(rng):
    x = rng.standard_normal((2, 4, 3)).astype("float32")
    out, h_f, c_f, h_b, c_b = layers.Bidirectional(layers.LSTM(5, return_state=True))(x)
    assert out.shape == (2, 10) and h_f.shape == c_b.shape == (2, 5)
    np.testing.assert_allclose(out.numpy(), np.concatenate([h_f.numpy(), h_b.numpy()], -1))
    y, y_rev = layers.Bidirectional(layers.GRU(5), merge_mode=None)(x)
    assert y.shape == y_rev.shape == (2, 5)
    with pytest.raises(ValueError, match="merge_mode"):
        layers.Bidirectional(layers.GRU(5), merge_mode="max")
    with pytest.raises(ValueError, match="SimpleRNN, LSTM or GRU"):
        layers.Bidirectional(layers.Dense(3))


@pytest.mark.parametrize("kind", KINDS)
def test_pre_padding_with_mask_zero_gives_the_unpadded_result(kind, rng):
    """Embedding(mask_zero=True) then a recurrent layer: padded steps change nothing."""
    tokens = [rng.integers(1, 50, size=n) for n in (3, 7, 5)]
    padded = fg.preprocessing.pad_sequences(tokens, maxlen=9)
    model = fg.Sequential(
        [
            layers.Input(shape=(None,)),  # any number of time steps
            layers.Embedding(50, 4, mask_zero=True),
            KINDS[kind](6, return_sequences=True),
            KINDS[kind](5),
        ]
    )
    batched = model.predict(padded, verbose=0)
    for row, sequence in enumerate(tokens):
        alone = model.predict(sequence[None, :], verbose=0)
        np.testing.assert_allclose(batched[row], alone[0], rtol=0, atol=1e-6)


def test_post_padding_keeps_the_state_of_the_last_real_step(rng):
    tokens = [rng.integers(1, 30, size=n) for n in (2, 6)]
    padded = fg.preprocessing.pad_sequences(tokens, maxlen=8, padding="post")
    embedding = layers.Embedding(30, 3, mask_zero=True)
    lstm = layers.LSTM(4, return_sequences=True, return_state=True)
    sequence, h, c = lstm(embedding(padded))
    alone, h_alone, c_alone = lstm(embedding(tokens[0][None, :]))
    np.testing.assert_allclose(h.numpy()[0], h_alone.numpy()[0], atol=1e-6)
    np.testing.assert_allclose(c.numpy()[0], c_alone.numpy()[0], atol=1e-6)
    # Masked steps repeat the last output.
    np.testing.assert_allclose(sequence.numpy()[0, 2:], np.repeat(alone.numpy()[:, -1:], 6, 1)[0])


def test_eager_masks_follow_the_tensors(rng):
    ids = np.array([[0, 0, 4, 2], [3, 1, 2, 5]])
    embedding = layers.Embedding(10, 3, mask_zero=True)
    np.testing.assert_array_equal(embedding.compute_mask(ids), ids != 0)
    lstm = layers.LSTM(2)
    implicit = lstm(embedding(ids)).numpy()
    explicit = lstm(embedding(ids), mask=ids != 0).numpy()
    unmasked = lstm(embedding(ids), mask=np.ones((2, 4), bool)).numpy()
    np.testing.assert_array_equal(implicit, explicit)
    assert not np.allclose(implicit[0], unmasked[0])
    with pytest.raises(ValueError, match="mask"):
        lstm(embedding(ids), mask=np.ones((2, 3), bool))


def test_global_average_pooling_takes_the_masked_mean(rng):
    ids = np.array([[0, 0, 4, 2], [3, 1, 2, 5], [0, 0, 0, 0]])
    embedding = layers.Embedding(10, 3, mask_zero=True)
    vectors = embedding(ids).numpy()
    pooled = layers.GlobalAveragePooling1D()(embedding(ids)).numpy()
    np.testing.assert_allclose(pooled[0], vectors[0, 2:].mean(0), rtol=1e-6)
    np.testing.assert_allclose(pooled[1], vectors[1].mean(0), rtol=1e-6)
    np.testing.assert_array_equal(pooled[2], 0)  # nothing kept: zeros, not NaN
    model = fg.Sequential([embedding, layers.GlobalAveragePooling1D()])
    np.testing.assert_allclose(model.predict(ids, verbose=0), pooled, rtol=1e-6)
    x = rng.standard_normal((2, 3, 5)).astype("float32")
    assert layers.GlobalAveragePooling1D(keepdims=True)(x).shape == (2, 1, 5)
    first = layers.GlobalAveragePooling1D(data_format="channels_first")(x).numpy()
    np.testing.assert_allclose(first, x.mean(-1), rtol=1e-6)


def test_dropout_masks_apply_in_training_only(rng):
    x = rng.standard_normal((4, 5, 3)).astype("float32")
    layer = layers.LSTM(6, dropout=0.5, recurrent_dropout=0.5)
    inference = layer(x).numpy()
    np.testing.assert_array_equal(inference, layer(x, training=False).numpy())
    assert not np.allclose(inference, layer(x, training=True).numpy())
    expected, _ = keras_rnn("LSTM", x, layer.get_weights())
    np.testing.assert_allclose(inference, expected, atol=1e-5)


def test_return_state_is_refused_inside_a_sequential_model():
    inputs = layers.Input(shape=(5, 3))
    # The functional API takes the states as extra outputs (tests/test_functional.py).
    assert len(layers.LSTM(4, return_state=True)(inputs)) == 3
    with pytest.raises(ValueError, match="return_state"):
        fg.Sequential([layers.Input(shape=(5, 3)), layers.GRU(4, return_state=True)])
    with pytest.raises(ValueError, match="merge_mode=None"):
        fg.Sequential(
            [layers.Input(shape=(5, 3)), layers.Bidirectional(layers.GRU(4), merge_mode=None)]
        )
    with pytest.raises(TypeError):
        layers.LSTM(4, "tanh", "sigmoid", True, "glorot_uniform")  # Keras-only positionals


def test_bad_arguments_are_refused():
    with pytest.raises(ValueError, match="units"):
        layers.LSTM(0)
    with pytest.raises(ValueError, match="dropout"):
        layers.GRU(3, dropout=1.0)
    with pytest.raises(ValueError, match="reset_after"):
        layers.GRU(3, reset_after=False)
    with pytest.raises(ValueError, match="stateful"):
        layers.SimpleRNN(3, stateful=True)
    with pytest.raises(ValueError, match="time, features"):
        layers.LSTM(3)(np.ones((2, 3), dtype="float32"))
    with pytest.raises(ValueError, match="not supported"):
        layers.LSTM(3, activation="gelu")(np.ones((2, 3, 4), dtype="float32"))


def test_functional_model_with_masking(rng):
    inputs = layers.Input(shape=(6,))
    hidden = layers.Embedding(20, 4, mask_zero=True)(inputs)
    hidden = layers.Bidirectional(layers.LSTM(3, return_sequences=True))(hidden)
    outputs = layers.GlobalAveragePooling1D()(hidden)
    model = fg.Model(inputs=inputs, outputs=outputs)
    ids = np.array([[0, 0, 3, 4, 5, 6], [1, 2, 3, 4, 5, 6]])
    assert model.predict(ids, verbose=0).shape == (2, 6)
    assert model.output_shape == (None, 6)
    classifier = fg.Sequential(
        [
            layers.Embedding(20, 4, mask_zero=True),
            layers.Bidirectional(layers.GRU(3)),
            layers.Dense(2, activation="softmax"),
        ]
    )
    np.testing.assert_allclose(classifier.predict(ids, verbose=0).sum(-1), 1, rtol=1e-6)


def test_the_keras_text_classifier_builds_predicts_and_backpropagates(rng):
    model = fg.Sequential(
        [
            layers.Embedding(10000, 128),
            layers.LSTM(128, return_sequences=True),
            layers.Dropout(0.5),
            layers.LSTM(128),
            layers.Dropout(0.5),
            layers.Dense(1, activation="sigmoid"),
        ]
    )
    # compile/fit are wired by the training loop's branch; this checks what they rely on.
    x = rng.integers(0, 10000, size=(16, 20))
    y = rng.integers(0, 2, size=(16, 1)).astype("float32")
    predictions = model.predict(x, batch_size=8, verbose=0)
    assert predictions.shape == (16, 1)
    assert np.all((predictions > 0) & (predictions < 1))
    assert model.output_shape == (None, 1)

    out = model(x, training=True)
    target = fg.tensor(y)
    loss = -(target * out.log() + (1 - target) * (1 - out).log()).mean()
    loss.backward()
    names = [name for name, _ in model.named_weights()]
    assert len(names) == 1 + 3 + 3 + 2
    for name, weight in model.named_weights():
        assert weight.grad is not None, name
        assert weight.grad.shape == weight.shape
        assert np.isfinite(weight.grad.numpy()).all(), name
        assert np.abs(weight.grad.numpy()).sum() > 0, name
    # Only the rows of the ids seen receive gradient.
    embedding_grad = model.layers[0].embeddings.grad.numpy()
    unseen = np.setdiff1d(np.arange(10000), x)
    np.testing.assert_array_equal(embedding_grad[unseen], 0)


def test_recurrent_models_train_and_predict_to_the_same_bits_on_any_thread_count(rng):
    # Large enough that each recurrent layer runs its batch rows in blocks on several threads,
    # and that predict runs batches side by side.
    x = rng.integers(1, 50, size=(96, 12))
    x[::5, :4] = 0  # padded steps, masked
    y = rng.integers(0, 2, size=(96, 1)).astype("float32")

    def train_and_predict(threads):
        fg.set_num_threads(threads)
        fg.set_seed(3)
        model = fg.Sequential(
            [
                layers.Embedding(50, 16, mask_zero=True),
                layers.LSTM(32, return_sequences=True, recurrent_dropout=0.2),
                layers.GRU(32, return_sequences=True, go_backwards=True),
                layers.SimpleRNN(32),
                layers.Dense(1, activation="sigmoid"),
            ]
        )
        model.compile(optimizer="adam", loss="binary_crossentropy")
        model.fit(x, y, batch_size=48, epochs=2, verbose=0)
        return [w.copy() for w in model.get_weights()], [
            model.predict(x, batch_size=batch_size, verbose=0) for batch_size in (7, 32, 96)
        ]

    try:
        weights, predictions = train_and_predict(1)
        for threads in (2, 3):
            other_weights, other_predictions = train_and_predict(threads)
            for a, b in zip(weights, other_weights, strict=True):
                np.testing.assert_array_equal(a, b)
            for a, b in zip(predictions, other_predictions, strict=True):
                np.testing.assert_array_equal(a, b)
        for other in predictions[1:]:
            np.testing.assert_array_equal(predictions[0], other)
    finally:
        fg.set_num_threads(2)


def pytorch_rnn(kind, x, params):
    """PyTorch's equations (torch.nn.LSTM/GRU/RNN docs), batch-first, with its own weight
    layout: ``weight_ih (gates * hidden, input)``, ``weight_hh``, ``bias_ih``, ``bias_hh``."""
    w_ih, w_hh, b_ih, b_hh = params
    hidden = w_hh.shape[1]
    h, c = np.zeros((x.shape[0], hidden)), np.zeros((x.shape[0], hidden))
    outputs = []
    for t in range(x.shape[1]):
        gi, gh = x[:, t] @ w_ih.T + b_ih, h @ w_hh.T + b_hh
        if kind == "LSTM":
            i, f, g, o = np.split(gi + gh, 4, axis=-1)
            c = sigmoid(f) * c + sigmoid(i) * np.tanh(g)
            h = sigmoid(o) * np.tanh(c)
        elif kind == "GRU":
            i_r, i_z, i_n = np.split(gi, 3, axis=-1)
            h_r, h_z, h_n = np.split(gh, 3, axis=-1)
            r, z = sigmoid(i_r + h_r), sigmoid(i_z + h_z)
            n = np.tanh(i_n + r * h_n)
            h = (1 - z) * n + z * h
        else:
            h = np.tanh(gi + gh)
        outputs.append(h)
    return np.stack(outputs, axis=1)


@pytest.mark.parametrize(("kind", "gates"), [("LSTM", 4), ("GRU", 3), ("SimpleRNN", 1)])
def test_pytorch_weights_convert_as_documented(kind, gates, rng):
    """The recipes of docs/weight_layout.md."""
    hidden, inputs = 4, 3
    w_ih = rng.standard_normal((gates * hidden, inputs))
    w_hh = rng.standard_normal((gates * hidden, hidden))
    b_ih, b_hh = rng.standard_normal(gates * hidden), rng.standard_normal(gates * hidden)
    if kind == "GRU":

        def to_keras_order(blocks):
            r, z, n = np.split(blocks, 3, axis=0)
            return np.concatenate([z, r, n], axis=0)

        weights = [
            to_keras_order(w_ih).T,
            to_keras_order(w_hh).T,
            np.stack([to_keras_order(b_ih), to_keras_order(b_hh)]),
        ]
    else:
        weights = [w_ih.T, w_hh.T, b_ih + b_hh]
    layer = KINDS[kind](hidden, return_sequences=True, dtype="float64")
    layer.build((None, 5, inputs))
    layer.set_weights(weights)
    x = rng.standard_normal((2, 5, inputs))
    expected = pytorch_rnn(kind, x, (w_ih, w_hh, b_ih, b_hh))
    np.testing.assert_allclose(layer(x).numpy(), expected, rtol=0, atol=1e-10)

"""``initial_state=[...]`` of SimpleRNN, LSTM and GRU: outputs equal PyTorch's given (h0, c0)
on copied weights, float64 gradients (initial states included) against finite differences, and
the encoder-decoder of the keras.io "Working with RNNs" guide in a functional model."""

import numpy as np
import pytest
from gradcheck import check_gradients

import ferrograd as fg
from ferrograd import interop, layers

KINDS = {"SimpleRNN": layers.SimpleRNN, "LSTM": layers.LSTM, "GRU": layers.GRU}
STATES = {"SimpleRNN": 1, "LSTM": 2, "GRU": 1}


def torch_run(kind, layer, x, states):
    """PyTorch's layer of the same kind on the same weights, from the same states."""
    torch = pytest.importorskip("torch")
    weights = dict(zip(["kernel", "recurrent_kernel", "bias"], layer.get_weights(), strict=False))
    entries = interop._recurrent_to_torch(kind, weights)
    module = {"SimpleRNN": torch.nn.RNN, "LSTM": torch.nn.LSTM, "GRU": torch.nn.GRU}[kind](
        x.shape[-1], layer.units, batch_first=True, dtype=torch.float64
    )
    module.load_state_dict({k: torch.tensor(v) for k, v in entries.items()})
    h = [torch.tensor(s)[None] for s in states]
    with torch.no_grad():
        output, final = module(torch.tensor(x), h[0] if kind != "LSTM" else tuple(h))
    final = list(final) if kind == "LSTM" else [final]
    return output.numpy(), [f[0].numpy() for f in final]


@pytest.mark.parametrize("kind", list(KINDS))
def test_outputs_and_final_states_equal_torch_from_given_states(kind, rng):
    x = rng.standard_normal((3, 5, 4))
    states = [rng.standard_normal((3, 6)) for _ in range(STATES[kind])]
    layer = KINDS[kind](6, return_sequences=True, return_state=True, dtype="float64")
    output, *final = layer(x, initial_state=states)
    expected_output, expected_final = torch_run(kind, layer, x, states)
    np.testing.assert_allclose(output.numpy(), expected_output, rtol=1e-10, atol=1e-12)
    for got, expected in zip(final, expected_final, strict=True):
        np.testing.assert_allclose(got.numpy(), expected, rtol=1e-10, atol=1e-12)
    # From zero states given explicitly: the same as no initial state.
    zeros = [np.zeros((3, 6)) for _ in states]
    np.testing.assert_allclose(
        layer(x, initial_state=zeros)[0].numpy(), layer(x)[0].numpy(), rtol=0, atol=0
    )


@pytest.mark.parametrize(
    ("kind", "options"),
    [
        ("LSTM", {"return_sequences": True}),
        ("LSTM", {"return_state": True}),
        ("GRU", {"go_backwards": True}),
        ("SimpleRNN", {"return_sequences": True}),
    ],
)
def test_gradients_reach_the_initial_states(kind, options, rng):
    layer = KINDS[kind](3, dtype="float64", **options)
    layer.build((None, 4, 2))
    mask = np.array([[False, True, False, True], [True, True, True, False]])
    x = rng.standard_normal((2, 4, 2))
    states = [rng.standard_normal((2, 3)) for _ in range(STATES[kind])]

    def run(x, *states):
        out = layer(x, initial_state=list(states), mask=mask)
        if isinstance(out, list):  # return_state: every output enters the objective
            output, h, c = out
            return output + h * fg.tensor(0.7, dtype="float64") + c * fg.tensor(1.3, "float64")
        return out

    check_gradients(run, x, *states)


def test_gradients_of_the_weights_with_initial_states(rng):
    layer = layers.LSTM(2, return_sequences=True, dtype="float64")
    layer.build((None, 3, 2))
    x = fg.tensor(rng.standard_normal((2, 3, 2)), dtype="float64")
    h, c = (fg.tensor(rng.standard_normal((2, 2)), dtype="float64") for _ in range(2))
    weights = layer.weights
    out = layer(x, initial_state=[h, c])
    coefficients = fg.tensor(rng.standard_normal(out.shape), dtype="float64")
    (out * coefficients).sum().backward()
    for weight in weights:
        analytic = weight.grad.numpy()
        values = weight.numpy().copy()
        numeric = np.zeros_like(values)
        for index in np.ndindex(values.shape):
            for sign in (1, -1):
                moved = values.copy()
                moved[index] += sign * 1e-6
                fg._core.assign(weight, moved)
                with fg.no_grad():
                    y = layer(x, initial_state=[h, c]).numpy()
                numeric[index] += sign * float((y * coefficients.numpy()).sum())
            numeric[index] /= 2e-6
        fg._core.assign(weight, values)
        np.testing.assert_allclose(analytic, numeric, rtol=1e-6, atol=1e-8)


def test_the_encoder_decoder_of_the_keras_rnn_guide_trains(rng):
    # keras.io "Working with RNNs": an encoder's final states start the decoder.
    encoder_input = layers.Input(shape=(None,))
    encoder_embedded = layers.Embedding(input_dim=50, output_dim=8)(encoder_input)
    output, state_h, state_c = layers.LSTM(16, return_state=True, name="encoder")(encoder_embedded)
    encoder_state = [state_h, state_c]
    decoder_input = layers.Input(shape=(None,))
    decoder_embedded = layers.Embedding(input_dim=40, output_dim=8)(decoder_input)
    decoder_output = layers.LSTM(16, name="decoder")(decoder_embedded, initial_state=encoder_state)
    output = layers.Dense(4)(decoder_output)
    model = fg.Model([encoder_input, decoder_input], output)
    # Encoder 4 * (16 * (8 + 16 + 1)), decoder the same, embeddings 400 + 320, dense 68.
    assert model.count_params() == 2 * 4 * 16 * 25 + 400 + 320 + 68
    encoder_tokens = rng.integers(1, 50, size=(64, 6)).astype("float32")
    decoder_tokens = rng.integers(1, 40, size=(64, 5)).astype("float32")
    # The target depends on the encoder's input only: the decoder must read the states.
    target = (encoder_tokens[:, 0] % 4).astype("int64")
    model.compile(
        optimizer=fg.optimizers.Adam(0.02),
        loss=fg.losses.SparseCategoricalCrossentropy(from_logits=True),
        metrics=["accuracy"],
    )
    history = model.fit(
        [encoder_tokens, decoder_tokens], target, epochs=25, batch_size=16, verbose=0
    )
    assert history.history["accuracy"][-1] > 0.9
    predictions = model.predict([encoder_tokens[:2], decoder_tokens[:2]], verbose=0)
    assert predictions.shape == (2, 4)


def test_a_model_with_initial_states_saves_and_loads(tmp_path, rng):
    x_in = layers.Input(shape=(5, 3))
    h_in = layers.Input(shape=(4,))
    out = layers.GRU(4, return_sequences=True)(x_in, initial_state=[h_in])
    model = fg.Model([x_in, h_in], out)
    x = rng.standard_normal((2, 5, 3)).astype("float32")
    h = rng.standard_normal((2, 4)).astype("float32")
    before = model.predict([x, h], verbose=0)
    assert not np.allclose(before, model.predict([x, np.zeros_like(h)], verbose=0))
    path = tmp_path / "model.keras"
    model.save(path)
    loaded = fg.models.load_model(path)
    np.testing.assert_allclose(loaded.predict([x, h], verbose=0), before, rtol=1e-6)


def test_bad_initial_states_are_refused_naming_the_layer(rng):
    x = rng.standard_normal((2, 5, 3)).astype("float32")
    lstm = layers.LSTM(4, name="decoder")
    with pytest.raises(ValueError, match="decoder.*2 state"):
        lstm(x, initial_state=[np.zeros((2, 4), "float32")])
    with pytest.raises(ValueError, match=r"initial_state\[1\].*\(batch, units\)"):
        lstm(x, initial_state=[np.zeros((2, 4), "float32"), np.zeros((2, 3), "float32")])
    with pytest.raises(ValueError, match="initial_state"):
        layers.Dense(2)(x, initial_state=[x])
    with pytest.raises(ValueError, match="Bidirectional"):
        layers.Bidirectional(layers.LSTM(2))(x, initial_state=[x, x])
    x_in, h_in = layers.Input(shape=(5, 3)), layers.Input(shape=(7,))
    with pytest.raises(ValueError, match=r"initial_state\[0\]"):
        layers.GRU(4)(x_in, initial_state=[h_in])
    with pytest.raises(TypeError, match="symbolic"):
        layers.GRU(4)(x_in, initial_state=[np.zeros((2, 4), "float32")])


@pytest.mark.parametrize("kind", list(KINDS))
@pytest.mark.parametrize("return_sequences", [False, True])
def test_masked_steps_from_initial_states_follow_keras(kind, return_sequences, rng):
    # Keras's backend.rnn: a masked step keeps the states and repeats the previous output, the
    # output before any kept step being zeros (not the initial state).
    from test_recurrent import keras_step

    x = rng.standard_normal((3, 4, 2))
    mask = np.array(
        [[False, False, True, True], [True, False, True, False], [False, False, False, False]]
    )
    states = [rng.standard_normal((3, 3)) for _ in range(STATES[kind])]
    layer = KINDS[kind](3, return_sequences=return_sequences, return_state=True, dtype="float64")
    output, *final = layer(x, initial_state=states, mask=mask)
    weights = layer.get_weights()
    expected_states, previous, outputs = list(states), np.zeros((3, 3)), []
    for t in range(4):
        out, new = keras_step(kind, x[:, t], expected_states, *weights)
        kept = mask[:, t][:, None]
        previous = np.where(kept, out, previous)
        expected_states = [np.where(kept, n, s) for n, s in zip(new, expected_states, strict=True)]
        outputs.append(previous)
    expected = np.stack(outputs, axis=1) if return_sequences else outputs[-1]
    np.testing.assert_allclose(output.numpy(), expected, rtol=1e-12, atol=1e-12)
    for got, want in zip(final, expected_states, strict=True):
        np.testing.assert_allclose(got.numpy(), want, rtol=1e-12, atol=1e-12)

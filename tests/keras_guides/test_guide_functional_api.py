"""The keras.io guide "The Functional API" (keras-io guides/functional_api.py), written with
only the import changed (``import ferrograd as keras``, ``from ferrograd import layers``) and
small data: the first samples of MNIST, a few hundred dummy tickets, random images in place
of CIFAR-10 (which ``keras.datasets`` here does not ship).

Each test is one section of the guide and asserts what it shows: shapes, dtypes, the parameter
counts of the summaries, the accuracy after training, equal predictions after a save and a
load, the History keys of a model with two outputs. A small Dense model stands in for the
pretrained VGG19.
"""

import numpy as np
import pytest

import ferrograd as keras
from ferrograd import layers


def summary_of(model) -> str:
    lines = []
    model.summary(print_fn=lines.append)
    return "\n".join(lines)


def mnist_model():
    inputs = keras.Input(shape=(784,))
    dense = layers.Dense(64, activation="relu")
    x = dense(inputs)
    x = layers.Dense(64, activation="relu")(x)
    outputs = layers.Dense(10)(x)
    return keras.Model(inputs=inputs, outputs=outputs, name="mnist_model")


def test_the_input_node_and_the_first_model():
    inputs = keras.Input(shape=(784,))
    assert tuple(inputs.shape) == (None, 784)
    assert inputs.dtype == "float32"
    img_inputs = keras.Input(shape=(32, 32, 3))
    assert tuple(img_inputs.shape) == (None, 32, 32, 3)

    model = mnist_model()
    text = summary_of(model)
    assert 'Model: "mnist_model"' in text
    assert "Total params: 55,050" in text
    assert model.count_params() == 55_050
    assert tuple(model.output_shape) == (None, 10)


@pytest.mark.xfail(
    strict=True, reason="not in ferrograd yet (reported): keras.utils.plot_model (AttributeError)"
)
def test_plot_the_model(tmp_path):
    model = mnist_model()
    keras.utils.plot_model(model, str(tmp_path / "my_first_model.png"))
    keras.utils.plot_model(
        model, str(tmp_path / "my_first_model_with_shape_info.png"), show_shapes=True
    )
    assert (tmp_path / "my_first_model_with_shape_info.png").stat().st_size > 0


def test_training_evaluation_and_inference_then_save_and_load(tmp_path):
    (x_train, y_train), (x_test, y_test) = keras.datasets.mnist.load_data()
    x_train = x_train[:3000].reshape(3000, 784).astype("float32") / 255
    y_train = y_train[:3000]
    x_test = x_test[:1000].reshape(1000, 784).astype("float32") / 255
    y_test = y_test[:1000]

    model = mnist_model()
    model.compile(
        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
        optimizer=keras.optimizers.RMSprop(),
        metrics=["accuracy"],
    )
    history = model.fit(x_train, y_train, batch_size=64, epochs=2, validation_split=0.2, verbose=0)
    assert set(history.history) == {"loss", "accuracy", "val_loss", "val_accuracy"}
    assert history.history["loss"][1] < history.history["loss"][0]

    test_scores = model.evaluate(x_test, y_test, verbose=2)
    assert len(test_scores) == 2
    assert 0.05 < test_scores[0] < 0.8  # Test loss
    assert 0.8 < test_scores[1] <= 1.0  # Test accuracy

    path = tmp_path / "path_to_my_model.keras"
    model.save(path)
    expected = model.predict(x_test, verbose=0)
    del model
    # Recreate the exact same model purely from the file:
    model = keras.models.load_model(path)
    np.testing.assert_array_equal(model.predict(x_test, verbose=0), expected)
    np.testing.assert_allclose(model.evaluate(x_test, y_test, verbose=0), test_scores, rtol=1e-5)


def test_one_graph_of_layers_defines_the_encoder_of_the_autoencoder():
    encoder_input = keras.Input(shape=(28, 28, 1), name="img")
    x = layers.Conv2D(16, 3, activation="relu")(encoder_input)
    x = layers.Conv2D(32, 3, activation="relu")(x)
    x = layers.MaxPooling2D(3)(x)
    x = layers.Conv2D(32, 3, activation="relu")(x)
    x = layers.Conv2D(16, 3, activation="relu")(x)
    encoder_output = layers.GlobalMaxPooling2D()(x)

    encoder = keras.Model(encoder_input, encoder_output, name="encoder")
    text = summary_of(encoder)
    assert "(None, 4, 4, 16)" in text and "(None, 16)" in text
    assert "Total params: 18,672" in text


def test_the_autoencoder_and_models_called_like_layers():
    encoder_input = keras.Input(shape=(28, 28, 1), name="original_img")
    x = layers.Conv2D(16, 3, activation="relu")(encoder_input)
    x = layers.Conv2D(32, 3, activation="relu")(x)
    x = layers.MaxPooling2D(3)(x)
    x = layers.Conv2D(32, 3, activation="relu")(x)
    x = layers.Conv2D(16, 3, activation="relu")(x)
    encoder_output = layers.GlobalMaxPooling2D()(x)
    encoder = keras.Model(encoder_input, encoder_output, name="encoder")

    decoder_input = keras.Input(shape=(16,), name="encoded_img")
    x = layers.Reshape((4, 4, 1))(decoder_input)
    x = layers.Conv2DTranspose(16, 3, activation="relu")(x)
    x = layers.Conv2DTranspose(32, 3, activation="relu")(x)
    x = layers.UpSampling2D(3)(x)
    x = layers.Conv2DTranspose(16, 3, activation="relu")(x)
    decoder_output = layers.Conv2DTranspose(1, 3, activation="relu")(x)
    decoder = keras.Model(decoder_input, decoder_output, name="decoder")

    autoencoder_input = keras.Input(shape=(28, 28, 1), name="img")
    encoded_img = encoder(autoencoder_input)
    decoded_img = decoder(encoded_img)
    autoencoder = keras.Model(autoencoder_input, decoded_img, name="autoencoder")
    assert tuple(autoencoder.output_shape) == (None, 28, 28, 1)


def test_models_are_callable_like_layers_an_ensemble():
    def get_model():
        inputs = keras.Input(shape=(128,))
        outputs = layers.Dense(1)(inputs)
        return keras.Model(inputs, outputs)

    model1 = get_model()
    model2 = get_model()
    model3 = get_model()

    inputs = keras.Input(shape=(128,))
    y1 = model1(inputs)
    y2 = model2(inputs)
    y3 = model3(inputs)
    outputs = layers.average([y1, y2, y3])
    ensemble_model = keras.Model(inputs=inputs, outputs=outputs)

    assert ensemble_model.count_params() == 3 * 129
    x = np.random.random((5, 128)).astype("float32")
    expected = (np.asarray(model1(x)) + np.asarray(model2(x)) + np.asarray(model3(x))) / 3
    np.testing.assert_allclose(ensemble_model.predict(x, verbose=0), expected, rtol=1e-5)


num_tags = 12  # Number of unique issue tags
num_words = 10000  # Size of vocabulary obtained when preprocessing text data
num_departments = 4  # Number of departments for predictions


def ticket_model():
    title_input = keras.Input(shape=(None,), name="title")  # Variable-length sequence of ints
    body_input = keras.Input(shape=(None,), name="body")  # Variable-length sequence of ints
    tags_input = keras.Input(shape=(num_tags,), name="tags")  # Binary vectors of size num_tags

    title_features = layers.Embedding(num_words, 64)(title_input)
    body_features = layers.Embedding(num_words, 64)(body_input)
    title_features = layers.LSTM(128)(title_features)
    body_features = layers.LSTM(32)(body_features)
    x = layers.concatenate([title_features, body_features, tags_input])
    priority_pred = layers.Dense(1, name="priority")(x)
    department_pred = layers.Dense(num_departments, name="department")(x)
    return keras.Model(
        inputs=[title_input, body_input, tags_input],
        outputs=[priority_pred, department_pred],
    )


def test_a_model_with_several_inputs_and_outputs():
    model = ticket_model()
    text = summary_of(model)
    # Two embeddings of 640,000, LSTM(128) 98,816, LSTM(32) 12,416, Dense 173 and 692.
    assert "Total params: 1,392,097" in text
    assert model.count_params() == 1_392_097

    model.compile(
        optimizer=keras.optimizers.RMSprop(1e-3),
        loss=[
            keras.losses.BinaryCrossentropy(from_logits=True),
            keras.losses.CategoricalCrossentropy(from_logits=True),
        ],
        loss_weights=[1.0, 0.2],
    )
    model.compile(
        optimizer=keras.optimizers.RMSprop(1e-3),
        loss={
            "priority": keras.losses.BinaryCrossentropy(from_logits=True),
            "department": keras.losses.CategoricalCrossentropy(from_logits=True),
        },
        loss_weights={"priority": 1.0, "department": 0.2},
    )

    # Dummy input data (fewer and shorter tickets than the guide's 1280 of 10 and 100 words).
    title_data = np.random.randint(num_words, size=(128, 10))
    body_data = np.random.randint(num_words, size=(128, 20))
    tags_data = np.random.randint(2, size=(128, num_tags)).astype("float32")
    # Dummy target data
    priority_targets = np.random.random(size=(128, 1))
    dept_targets = np.random.randint(2, size=(128, num_departments))

    history = model.fit(
        {"title": title_data, "body": body_data, "tags": tags_data},
        {"priority": priority_targets, "department": dept_targets},
        epochs=2,
        batch_size=32,
        verbose=0,
    )
    assert {"loss", "priority_loss", "department_loss"} <= set(history.history)
    for key in ("loss", "priority_loss", "department_loss"):
        assert len(history.history[key]) == 2 and np.isfinite(history.history[key]).all()
    # The total is the weighted sum of the two losses (their last-epoch means).
    total = history.history["priority_loss"][-1] + 0.2 * history.history["department_loss"][-1]
    assert history.history["loss"][-1] == pytest.approx(total, rel=1e-3)

    priority, department = model.predict(
        {"title": title_data[:3], "body": body_data[:3], "tags": tags_data[:3]}, verbose=0
    )
    assert priority.shape == (3, 1) and department.shape == (3, num_departments)


def test_a_toy_resnet_model():
    inputs = keras.Input(shape=(32, 32, 3), name="img")
    x = layers.Conv2D(32, 3, activation="relu")(inputs)
    x = layers.Conv2D(64, 3, activation="relu")(x)
    block_1_output = layers.MaxPooling2D(3)(x)

    x = layers.Conv2D(64, 3, activation="relu", padding="same")(block_1_output)
    x = layers.Conv2D(64, 3, activation="relu", padding="same")(x)
    block_2_output = layers.add([x, block_1_output])

    x = layers.Conv2D(64, 3, activation="relu", padding="same")(block_2_output)
    x = layers.Conv2D(64, 3, activation="relu", padding="same")(x)
    block_3_output = layers.add([x, block_2_output])

    x = layers.Conv2D(64, 3, activation="relu")(block_3_output)
    x = layers.GlobalAveragePooling2D()(x)
    x = layers.Dense(256, activation="relu")(x)
    x = layers.Dropout(0.5)(x)
    outputs = layers.Dense(10)(x)

    model = keras.Model(inputs, outputs, name="toy_resnet")
    text = summary_of(model)
    assert "Total params: 223,242" in text
    assert "(None, 9, 9, 64)" in text

    # Random images and labels in place of the first CIFAR-10 samples.
    x_train = np.random.random((64, 32, 32, 3)).astype("float32")
    y_train = keras.utils.to_categorical(np.random.randint(10, size=(64, 1)), 10)
    assert y_train.shape == (64, 10)
    model.compile(
        optimizer=keras.optimizers.RMSprop(1e-3),
        loss=keras.losses.CategoricalCrossentropy(from_logits=True),
        metrics=["acc"],
    )
    history = model.fit(x_train, y_train, batch_size=32, epochs=1, validation_split=0.2, verbose=0)
    assert set(history.history) == {"loss", "acc", "val_loss", "val_acc"}
    assert np.isfinite(history.history["loss"]).all()


def test_shared_layers():
    # Embedding for 1000 unique words mapped to 128-dimensional vectors
    shared_embedding = layers.Embedding(1000, 128)
    text_input_a = keras.Input(shape=(None,), dtype="int32")
    text_input_b = keras.Input(shape=(None,), dtype="int32")
    encoded_input_a = shared_embedding(text_input_a)
    encoded_input_b = shared_embedding(text_input_b)
    assert tuple(encoded_input_a.shape) == (None, None, 128)
    assert tuple(encoded_input_b.shape) == (None, None, 128)

    model = keras.Model([text_input_a, text_input_b], [encoded_input_a, encoded_input_b])
    assert model.count_params() == 128_000  # one table, shared
    ids = np.array([[1, 2, 3]], dtype="int32")
    a, b = model.predict([ids, ids], verbose=0)
    np.testing.assert_array_equal(a, b)


def test_extract_and_reuse_nodes_in_the_graph_of_layers():
    # A small Dense model in place of the pretrained VGG19.
    inputs = keras.Input(shape=(12,))
    x = layers.Dense(8, activation="relu")(inputs)
    x = layers.Dense(6, activation="relu")(x)
    outputs = layers.Dense(3)(x)
    base = keras.Model(inputs, outputs)

    features_list = [layer.output for layer in base.layers]
    feat_extraction_model = keras.Model(inputs=base.input, outputs=features_list)

    img = np.random.random((1, 12)).astype("float32")
    extracted_features = feat_extraction_model(img)
    assert [tuple(f.shape) for f in extracted_features] == [(1, 12), (1, 8), (1, 6), (1, 3)]
    np.testing.assert_allclose(np.asarray(extracted_features[0]), img)
    np.testing.assert_allclose(np.asarray(extracted_features[-1]), np.asarray(base(img)), rtol=1e-6)


@pytest.mark.skip(reason="needs subclassing: issue 17 (CustomDense(layers.Layer))")
def test_extend_the_api_using_custom_layers():
    class CustomDense(layers.Layer):
        def __init__(self, units=32):
            super().__init__()
            self.units = units

    inputs = keras.Input((4,))
    outputs = CustomDense(10)(inputs)
    keras.Model(inputs, outputs)


@pytest.mark.skip(reason="needs subclassing: issue 17 (CustomRNN(layers.Layer))")
def test_mix_and_match_api_styles():
    class CustomRNN(layers.Layer):
        pass

    CustomRNN()

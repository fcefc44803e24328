"""StringLookup, IntegerLookup and TextVectorization under ``fg.layers``: the outputs of the
examples in Keras 3's docstrings (vocabulary order by frequency, OOV and mask indices, the
encodings, invert), config round trips, and bad arguments refused naming the layer."""

import numpy as np
import pytest

import ferrograd as fg
from ferrograd import layers


def test_string_lookup_keras_examples(tmp_path):
    vocab = ["a", "b", "c", "d"]
    data = np.array([["a", "c", "d"], ["d", "z", "b"]])
    lookup = layers.StringLookup(vocabulary=vocab)
    np.testing.assert_array_equal(lookup(data), [[1, 3, 4], [4, 0, 2]])
    assert lookup.get_vocabulary() == ["[UNK]", "a", "b", "c", "d"]
    adapted = layers.StringLookup()
    adapted.adapt(data)
    assert adapted.get_vocabulary() == ["[UNK]", "d", "z", "c", "b", "a"]
    np.testing.assert_array_equal(adapted(data), [[5, 3, 1], [1, 2, 4]])
    masked = layers.StringLookup(vocabulary=vocab, mask_token="")
    np.testing.assert_array_equal(masked(np.array([["a", "", "z"]])), [[2, 0, 1]])
    assert masked.get_vocabulary()[:2] == ["", "[UNK]"]
    one_hot = layers.StringLookup(vocabulary=vocab, output_mode="one_hot")
    np.testing.assert_array_equal(
        one_hot(np.array(["a", "b", "c", "d", "z"])), np.eye(5)[[1, 2, 3, 4, 0]]
    )
    multi = layers.StringLookup(vocabulary=vocab, output_mode="multi_hot")
    four = np.array([["a", "c", "d", "d"], ["d", "z", "b", "z"]])
    np.testing.assert_array_equal(multi(four), [[0, 1, 0, 1, 1], [1, 0, 1, 0, 1]])
    count = layers.StringLookup(vocabulary=vocab, output_mode="count")
    np.testing.assert_array_equal(count(four), [[0, 1, 0, 1, 2], [2, 0, 1, 0, 1]])
    padded = layers.StringLookup(
        max_tokens=8, vocabulary=vocab, output_mode="multi_hot", pad_to_max_tokens=True
    )
    assert padded(four).shape == (2, 8)
    inverse = layers.StringLookup(vocabulary=vocab, invert=True)
    np.testing.assert_array_equal(
        inverse(np.array([[1, 3, 4], [4, 0, 2]])), [["a", "c", "d"], ["d", "[UNK]", "b"]]
    )
    limited = layers.StringLookup(max_tokens=3)
    limited.adapt(["x", "y", "y", "z", "z", "z"])
    assert limited.get_vocabulary() == ["[UNK]", "z", "y"]
    path = tmp_path / "vocab.txt"
    path.write_text("a\nb\nc\nd\n", encoding="utf-8")
    assert layers.StringLookup(vocabulary=str(path)).get_vocabulary() == lookup.get_vocabulary()
    config = adapted.get_config()
    again = layers.StringLookup.from_config(config)
    assert again.get_config() == config
    np.testing.assert_array_equal(again(data), adapted(data))


def test_integer_lookup_keras_examples():
    vocab = [12, 36, 1138, 42]
    data = np.array([[12, 1138, 42], [42, 1000, 36]])
    lookup = layers.IntegerLookup(vocabulary=vocab)
    np.testing.assert_array_equal(lookup(data), [[1, 3, 4], [4, 0, 2]])
    assert lookup.get_vocabulary() == [-1, 12, 36, 1138, 42]
    adapted = layers.IntegerLookup()
    adapted.adapt(data)
    assert adapted.get_vocabulary() == [-1, 42, 1138, 1000, 36, 12]
    np.testing.assert_array_equal(adapted(data), [[5, 2, 1], [1, 3, 4]])
    masked = layers.IntegerLookup(vocabulary=vocab, mask_token=0)
    np.testing.assert_array_equal(masked(np.array([[12, 0, 7]])), [[2, 0, 1]])
    inverse = layers.IntegerLookup(vocabulary=vocab, invert=True)
    np.testing.assert_array_equal(
        inverse(np.array([[1, 3, 4], [4, 0, 2]])), [[12, 1138, 42], [42, -1, 36]]
    )
    strict = layers.IntegerLookup(vocabulary=vocab, num_oov_indices=0)
    np.testing.assert_array_equal(strict(np.array([12, 42])), [0, 3])
    with pytest.raises(ValueError, match="IntegerLookup.*not in the vocabulary"):
        strict(np.array([5]))
    config = lookup.get_config()
    assert layers.IntegerLookup.from_config(config).get_config() == config


def test_lookup_bad_arguments_name_the_layer():
    with pytest.raises(ValueError, match="StringLookup: num_oov_indices"):
        layers.StringLookup(num_oov_indices=2)
    with pytest.raises(ValueError, match="StringLookup: output_mode"):
        layers.StringLookup(output_mode="tf_idf")
    with pytest.raises(ValueError, match="StringLookup: invert"):
        layers.StringLookup(invert=True, output_mode="one_hot")
    with pytest.raises(ValueError, match="StringLookup.*distinct"):
        layers.StringLookup(vocabulary=["a", "a"])
    with pytest.raises(ValueError, match="IntegerLookup: max_tokens"):
        layers.IntegerLookup(max_tokens=1)
    with pytest.raises(ValueError, match="IntegerLookup: mask_token"):
        layers.IntegerLookup(mask_token="x")
    with pytest.raises(TypeError, match="StringLookup: expected strings"):
        layers.StringLookup(vocabulary=["a"])(np.array([1, 2]))


def test_text_vectorization_starts_a_model_fit_on_strings(tmp_path, rng):
    assert layers.TextVectorization is fg.preprocessing.TextVectorization
    words = ["good", "great", "fine", "bad", "awful", "poor", "the", "movie", "was"]
    labels = rng.integers(0, 2, size=64)
    texts = np.array(
        [" ".join(["the", "movie", "was", words[rng.integers(0, 3) + 3 * (1 - y)]]) for y in labels]
    )
    vectorizer = layers.TextVectorization(max_tokens=20, output_sequence_length=5)
    vectorizer.adapt(texts)
    model = fg.Sequential(
        [
            vectorizer,
            layers.Embedding(20, 8),
            layers.GlobalAveragePooling1D(),
            layers.Dense(1, activation="sigmoid"),
        ]
    )
    model.compile(
        optimizer=fg.optimizers.Adam(0.05), loss="binary_crossentropy", metrics=["accuracy"]
    )
    history = model.fit(
        texts, labels, epochs=30, batch_size=16, verbose=0, validation_data=(texts, labels)
    )
    assert history.history["val_accuracy"][-1] == 1.0
    predictions = model.predict(np.array(["the movie was great", "the movie was awful"]), verbose=0)
    assert predictions.shape == (2, 1) and predictions[0, 0] > 0.5 > predictions[1, 0]
    lookup_model = fg.Sequential(
        [layers.StringLookup(vocabulary=["a", "b"]), layers.Embedding(3, 2)]
    )
    assert lookup_model.predict(np.array([["a", "b", "z"]]), verbose=0).shape == (1, 3, 2)
    with pytest.raises(ValueError, match="string preprocessing step"):
        model.save(tmp_path / "m.keras")
    with pytest.raises(ValueError, match="only start a Sequential"):
        fg.Sequential([layers.Dense(2), layers.StringLookup()])

"""pad_sequences against Keras's documented examples, and TextVectorization on a small corpus."""

import numpy as np
import pytest

from ferrograd.preprocessing import TextVectorization, pad_sequences

SEQUENCES = [[1], [2, 3], [4, 5, 6]]


def test_pad_sequences_follows_the_keras_examples():
    np.testing.assert_array_equal(pad_sequences(SEQUENCES), [[0, 0, 1], [0, 2, 3], [4, 5, 6]])
    np.testing.assert_array_equal(
        pad_sequences(SEQUENCES, value=-1), [[-1, -1, 1], [-1, 2, 3], [4, 5, 6]]
    )
    np.testing.assert_array_equal(
        pad_sequences(SEQUENCES, padding="post"), [[1, 0, 0], [2, 3, 0], [4, 5, 6]]
    )
    np.testing.assert_array_equal(pad_sequences(SEQUENCES, maxlen=2), [[0, 1], [2, 3], [5, 6]])
    assert pad_sequences(SEQUENCES).dtype == np.int32


def test_pad_sequences_truncating_lengths_and_dtypes():
    np.testing.assert_array_equal(
        pad_sequences(SEQUENCES, maxlen=2, truncating="post"), [[0, 1], [2, 3], [4, 5]]
    )
    np.testing.assert_array_equal(pad_sequences([[], [7]], maxlen=3), [[0, 0, 0], [0, 0, 7]])
    assert pad_sequences(SEQUENCES, maxlen=0).shape == (3, 0)
    assert pad_sequences([]).shape == (0, 0)
    np.testing.assert_array_equal(
        pad_sequences([np.array([1, 2])], maxlen=4, dtype="float32", value=0.5),
        [[0.5, 0.5, 1, 2]],
    )
    words = pad_sequences([["a", "b"], ["c"]], dtype=object, value="<pad>")
    assert words.tolist() == [["a", "b"], ["<pad>", "c"]]
    items = pad_sequences([[[1, 2]], [[3, 4], [5, 6]]])
    assert items.shape == (2, 2, 2) and items[0].tolist() == [[0, 0], [1, 2]]


def test_pad_sequences_errors():
    with pytest.raises(ValueError, match="padding"):
        pad_sequences(SEQUENCES, padding="middle")
    with pytest.raises(ValueError, match="truncating"):
        pad_sequences(SEQUENCES, truncating="both")
    with pytest.raises(ValueError, match="position 1"):
        pad_sequences([[1], 5])
    with pytest.raises(ValueError, match="dtype=object"):
        pad_sequences([["a"]], value="x")
    with pytest.raises(ValueError, match="maxlen"):
        pad_sequences(SEQUENCES, maxlen=-1)


CORPUS = [
    "The cat sat on the mat.",
    "The dog sat on the log!",
    "A cat, a dog... and THE bird?",
]


def test_vocabulary_by_frequency_with_keras_tie_breaking():
    vectorizer = TextVectorization()
    vectorizer.adapt(CORPUS)
    # the: 5; a: 2 (after lower-casing), cat, dog, on, sat: 2; then the words seen once. Ties
    # go by the token in reverse order, as Keras's sort does.
    assert vectorizer.get_vocabulary() == [
        "",
        "[UNK]",
        "the",
        "sat",
        "on",
        "dog",
        "cat",
        "a",
        "mat",
        "log",
        "bird",
        "and",
    ]
    assert vectorizer.vocabulary_size() == 12
    assert vectorizer.get_vocabulary(include_special_tokens=False)[0] == "the"


def test_texts_become_ids_with_oov_padding_and_truncation():
    vectorizer = TextVectorization(max_tokens=6, output_sequence_length=5)
    vectorizer.adapt(CORPUS)
    assert vectorizer.get_vocabulary() == ["", "[UNK]", "the", "sat", "on", "dog"]
    ids = vectorizer(["The dog sat.", "the zebra sat on the big log today"])
    np.testing.assert_array_equal(ids, [[2, 5, 3, 0, 0], [2, 1, 3, 4, 2]])
    assert ids.dtype == np.int64
    np.testing.assert_array_equal(vectorizer("dog"), [5, 0, 0, 0, 0])
    unbounded = TextVectorization()
    unbounded.adapt(CORPUS)
    assert unbounded(["cat", "the cat sat"]).shape == (2, 3)  # padded to the longest


def test_standardize_split_and_given_vocabulary():
    keep_case = TextVectorization(standardize=None, vocabulary=["The", "the"])
    np.testing.assert_array_equal(keep_case(["The the THE"]), [[2, 3, 1]])
    characters = TextVectorization(split="character", standardize="lower")
    characters.adapt(["abca"])
    assert characters.get_vocabulary() == ["", "[UNK]", "a", "c", "b"]
    custom = TextVectorization(standardize=str.upper, split=lambda s: s.split(","))
    custom.adapt(np.array([[b"x,y,x"]]))  # bytes, shape (n, 1)
    assert custom.get_vocabulary()[2:] == ["X", "Y"]
    vocabulary = TextVectorization(vocabulary=["", "[UNK]", "hello"])
    assert vocabulary.get_vocabulary() == ["", "[UNK]", "hello"]


def test_vectorizer_errors():
    with pytest.raises(ValueError, match="output_mode"):
        TextVectorization(output_mode="multi_hot")
    with pytest.raises(ValueError, match="max_tokens"):
        TextVectorization(max_tokens=2)
    with pytest.raises(ValueError, match="distinct"):
        TextVectorization(vocabulary=["a", "a"])
    with pytest.raises(ValueError, match="max_tokens"):
        TextVectorization(max_tokens=3, vocabulary=["a", "b"])
    with pytest.raises(TypeError, match="texts"):
        TextVectorization().adapt([1, 2])

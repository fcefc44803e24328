"""fg.utils.to_categorical, with Keras's semantics."""

import numpy as np
import pytest

import ferrograd as fg
from ferrograd.utils import to_categorical


def test_one_hot_rows_with_num_classes_inferred():
    result = to_categorical([0, 2, 1])
    np.testing.assert_array_equal(result, [[1, 0, 0], [0, 0, 1], [0, 1, 0]])
    assert result.dtype == np.float32


def test_explicit_num_classes_and_dtype():
    result = to_categorical(np.array([1, 0], dtype=np.uint8), num_classes=4, dtype="int32")
    np.testing.assert_array_equal(result, [[0, 1, 0, 0], [1, 0, 0, 0]])
    assert result.dtype == np.int32
    assert to_categorical([1], 2, dtype=np.float64).dtype == np.float64


def test_a_trailing_dimension_of_one_is_dropped():
    result = to_categorical(np.array([[2], [0], [1]]))
    assert result.shape == (3, 3)
    np.testing.assert_array_equal(result, np.eye(3)[[2, 0, 1]])
    # A single label keeps its one dimension, as in Keras.
    assert to_categorical([1], 3).shape == (1, 3)


def test_labels_of_any_shape_get_a_last_axis():
    labels = np.array([[0, 1, 2], [2, 2, 0]])
    result = to_categorical(labels)
    assert result.shape == (2, 3, 3)
    np.testing.assert_array_equal(result.argmax(axis=-1), labels)
    np.testing.assert_array_equal(result.sum(axis=-1), np.ones((2, 3)))
    np.testing.assert_array_equal(to_categorical(2, 4), [0, 0, 1, 0])


def test_round_trip_through_argmax(rng):
    labels = rng.integers(0, 10, size=1000)
    result = to_categorical(labels, 10)
    np.testing.assert_array_equal(result.argmax(axis=1), labels)
    assert result.sum() == 1000


def test_whole_floats_and_tensors_are_labels():
    np.testing.assert_array_equal(to_categorical([1.0, 0.0]), [[0, 1], [1, 0]])
    np.testing.assert_array_equal(to_categorical(fg.tensor([2.0, 0.0]), 3), [[0, 0, 1], [1, 0, 0]])


def test_empty_labels_need_num_classes():
    assert to_categorical(np.array([], dtype=int), 5).shape == (0, 5)
    with pytest.raises(ValueError, match="cannot infer num_classes from empty labels"):
        to_categorical([])


def test_labels_out_of_range_are_named():
    with pytest.raises(ValueError, match=r"below num_classes=10; received 10, 12 \(3 labels\)"):
        to_categorical([1, 10, 12, 12], num_classes=10)
    with pytest.raises(ValueError, match=r"negative labels -1 \(1 label\)"):
        to_categorical([0, -1, 3])
    with pytest.raises(ValueError, match=r"whole-number class labels; received 1.5"):
        to_categorical([1.5, 2.0])
    with pytest.raises(ValueError, match=r"received nan"):
        to_categorical([np.nan])


def test_bad_num_classes_and_non_numeric_labels_are_refused():
    with pytest.raises(ValueError, match="at least 1; received num_classes=0"):
        to_categorical([0], num_classes=0)
    with pytest.raises(TypeError, match="num_classes must be an integer; received float 2.0"):
        to_categorical([0], num_classes=2.0)
    with pytest.raises(TypeError, match="num_classes must be an integer; received True"):
        to_categorical([0], num_classes=True)
    with pytest.raises(TypeError, match="integer class labels; received an array of dtype <U1"):
        to_categorical(["a", "b"])
    with pytest.raises(TypeError, match="dtype bool"):
        to_categorical([True, False])

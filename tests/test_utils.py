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


# --- pad_sequences ----------------------------------------------------------------------------


def test_pad_sequences_pads_and_truncates_at_the_start_by_default():
    padded = fg.utils.pad_sequences([[1, 2, 3], [4, 5], [6], []], maxlen=2)
    np.testing.assert_array_equal(padded, [[2, 3], [4, 5], [0, 6], [0, 0]])
    assert padded.dtype == np.int32


def test_pad_sequences_post_padding_and_truncating_and_value():
    padded = fg.utils.pad_sequences(
        [[1, 2, 3], [4]], maxlen=2, padding="post", truncating="post", value=-1
    )
    np.testing.assert_array_equal(padded, [[1, 2], [4, -1]])


def test_pad_sequences_takes_the_longest_length_and_element_shapes():
    padded = fg.utils.pad_sequences([np.ones((2, 3)), np.ones((1, 3))], dtype="float32")
    assert padded.shape == (2, 2, 3)
    np.testing.assert_array_equal(padded[1, 0], np.zeros(3))
    with pytest.raises(ValueError, match="shape"):
        fg.utils.pad_sequences([np.ones((2, 3)), np.ones((1, 4))])


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"padding": "middle"}, "padding"),
        ({"truncating": "both"}, "truncating"),
        ({"maxlen": -1}, "maxlen"),
        ({"value": "x"}, "string"),
    ],
)
def test_pad_sequences_refuses_bad_arguments_by_name(kwargs, message):
    with pytest.raises(ValueError, match=message):
        fg.utils.pad_sequences([[1, 2]], **kwargs)


# --- normalize --------------------------------------------------------------------------------


def test_normalize_gives_unit_rows_and_leaves_zero_rows():
    x = np.array([[3.0, 4.0], [0.0, 0.0], [1.0, 0.0]])
    np.testing.assert_allclose(fg.utils.normalize(x), [[0.6, 0.8], [0.0, 0.0], [1.0, 0.0]])
    np.testing.assert_allclose(
        fg.utils.normalize(x, axis=0)[:, 0], [3 / np.sqrt(10), 0, 1 / np.sqrt(10)]
    )
    np.testing.assert_allclose(fg.utils.normalize([[1.0, -3.0]], order=1), [[0.25, -0.75]])
    as_tensor = fg.utils.normalize(fg.tensor(x))
    assert isinstance(as_tensor, fg.Tensor)
    np.testing.assert_allclose(as_tensor.numpy(), fg.utils.normalize(x), rtol=1e-6)
    with pytest.raises(ValueError, match="axis 2"):
        fg.utils.normalize(x, axis=2)


# --- split_dataset ----------------------------------------------------------------------------


def test_split_dataset_by_fraction_and_count_keeps_the_structure():
    x, y = np.arange(20).reshape(10, 2), np.arange(10)
    (x_left, y_left), (x_right, y_right) = fg.utils.split_dataset((x, y), left_size=0.8)
    assert x_left.shape == (8, 2) and y_right.tolist() == [8, 9]
    left, right = fg.utils.split_dataset(y, right_size=3)
    assert left.tolist() == list(range(7)) and right.tolist() == [7, 8, 9]
    left, right = fg.utils.split_dataset(y, left_size=2, right_size=3)
    assert left.tolist() == [0, 1] and right.tolist() == [2, 3, 4]


def test_split_dataset_shuffles_rows_together_and_repeatably():
    x, y = np.arange(10) * 10, np.arange(10)
    (x_left, y_left), (x_right, y_right) = fg.utils.split_dataset(
        (x, y), left_size=0.5, shuffle=True, seed=3
    )
    np.testing.assert_array_equal(x_left, y_left * 10)
    assert sorted([*y_left, *y_right]) == list(range(10))
    again = fg.utils.split_dataset((x, y), left_size=0.5, shuffle=True, seed=3)
    np.testing.assert_array_equal(again[0][1], y_left)
    assert y_left.tolist() != list(range(5))


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({}, "left_size or right_size"),
        ({"left_size": 1.5}, "left_size"),
        ({"right_size": 0}, "right_size"),
        ({"left_size": 6, "right_size": 6}, "add up"),
    ],
)
def test_split_dataset_refuses_bad_sizes(kwargs, message):
    with pytest.raises(ValueError, match=message):
        fg.utils.split_dataset(np.arange(10), **kwargs)


# --- set_random_seed --------------------------------------------------------------------------


def test_set_random_seed_seeds_python_numpy_and_ferrograd():
    import random

    fg.utils.set_random_seed(5)
    first = (random.random(), np.random.rand(), fg.randn(2).numpy())
    fg.utils.set_random_seed(5)
    second = (random.random(), np.random.rand(), fg.randn(2).numpy())
    assert first[0] == second[0] and first[1] == second[1]
    np.testing.assert_array_equal(first[2], second[2])
    with pytest.raises(ValueError, match="seed"):
        fg.utils.set_random_seed(-1)
    with pytest.raises(TypeError, match="seed"):
        fg.utils.set_random_seed("1")


# --- PyDataset --------------------------------------------------------------------------------


class Batches(fg.utils.PyDataset):
    def __init__(self, x, y, batch_size, **kwargs):
        super().__init__(**kwargs)
        self.x, self.y, self.batch_size = x, y, batch_size
        self.epochs_ended = 0

    def __len__(self):
        return -(-len(self.x) // self.batch_size)

    def __getitem__(self, index):
        rows = slice(index * self.batch_size, (index + 1) * self.batch_size)
        return self.x[rows], self.y[rows]

    def on_epoch_end(self):
        self.epochs_ended += 1


@pytest.mark.parametrize("workers", [1, 3])
def test_py_dataset_trains_like_the_same_batches_as_arrays(workers):
    rng = np.random.default_rng(0)
    x = rng.normal(size=(40, 3)).astype("float32")
    y = (x.sum(axis=1, keepdims=True) > 0).astype("float32")

    def trained(data, **fit_kwargs):
        fg.set_seed(9)
        model = fg.Sequential([fg.layers.Dense(1, activation="sigmoid", input_shape=(3,))])
        model.compile(optimizer="sgd", loss="binary_crossentropy")
        model.fit(data, epochs=3, verbose=0, **fit_kwargs)
        return model.get_weights()

    dataset = Batches(x, y, batch_size=8, workers=workers)
    from_dataset = trained(dataset)
    fg.set_seed(9)
    model = fg.Sequential([fg.layers.Dense(1, activation="sigmoid", input_shape=(3,))])
    model.compile(optimizer="sgd", loss="binary_crossentropy")
    model.fit(x, y, batch_size=8, epochs=3, shuffle=False, verbose=0)
    for a, b in zip(from_dataset, model.get_weights(), strict=True):
        np.testing.assert_array_equal(a, b)
    assert dataset.epochs_ended == 3


def test_py_dataset_prefetching_threads_keep_the_batch_order():
    dataset = Batches(np.arange(50), np.arange(50), batch_size=5, workers=4, max_queue_size=2)
    batches = list(dataset)
    assert [int(b[0][0]) for b in batches] == list(range(0, 50, 5))
    assert dataset.epochs_ended == 1


def test_py_dataset_refuses_processes_and_bad_counts():
    with pytest.raises(ValueError, match="use_multiprocessing"):
        Batches(np.arange(4), np.arange(4), 2, use_multiprocessing=True)
    with pytest.raises(ValueError, match="workers"):
        Batches(np.arange(4), np.arange(4), 2, workers=0)
    assert fg.utils.Sequence is fg.utils.PyDataset


def test_fit_computes_py_dataset_batches_in_its_worker_threads():
    import threading

    class ThreadRecording(Batches):
        def __getitem__(self, index):
            self.threads.add(threading.current_thread().name)
            return super().__getitem__(index)

    x = np.ones((64, 3), dtype="float32")
    dataset = ThreadRecording(x, np.ones((64, 1), dtype="float32"), batch_size=4, workers=2)
    dataset.threads = set()
    model = fg.Sequential([fg.layers.Dense(1, input_shape=(3,))])
    model.compile(optimizer="sgd", loss="mse")
    model.fit(dataset, epochs=2, verbose=0)
    assert dataset.threads and threading.main_thread().name not in dataset.threads
    assert dataset.epochs_ended == 2

"""DLPack: ferrograd tensors seen by numpy and PyTorch without a copy, and tensors made from
theirs."""

import gc

import numpy as np
import pytest
import torch

import ferrograd as fg
from ferrograd import _core


def data_pointer(array: np.ndarray) -> int:
    return array.__array_interface__["data"][0]


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_numpy_and_torch_views_share_the_tensor_memory(dtype):
    t = fg.tensor(np.arange(6).reshape(2, 3), dtype=dtype)
    array = np.from_dlpack(t)
    assert array.dtype == np.dtype(dtype) and array.shape == (2, 3)
    assert data_pointer(np.from_dlpack(t)) == data_pointer(array)  # the same buffer each time

    array[0, 1] = 42.0
    assert t.numpy()[0, 1] == 42.0

    torch_view = torch.from_dlpack(t)
    assert torch_view.dtype == getattr(torch, dtype)
    assert torch_view.data_ptr() == data_pointer(array)
    torch_view[1, 2] = -7.0
    np.testing.assert_array_equal(t.numpy(), [[0, 42, 2], [3, 4, -7]])
    # Operations on the tensor read the new values too.
    assert (t.sum()).item() == 0 + 42 + 2 + 3 + 4 - 7


def test_a_view_keeps_the_memory_alive_after_the_tensor_is_gone():
    t = fg.tensor(np.full((1000,), 3.5, dtype=np.float32))
    view = torch.from_dlpack(t)
    del t
    gc.collect()
    _ = [fg.tensor(np.zeros(1000, dtype=np.float32)) for _ in range(10)]  # reuse freed memory
    assert torch.all(view == 3.5)


def test_ferrograd_in_place_updates_move_the_tensor_off_a_live_view():
    """Copy-on-write: while a view holds the buffer, ferrograd never writes into it."""
    t = fg.tensor([1.0, 2.0, 3.0])
    view = np.from_dlpack(t)
    _core.assign(t, np.array([7.0, 8.0, 9.0], dtype=np.float32))
    np.testing.assert_array_equal(t.numpy(), [7, 8, 9])
    np.testing.assert_array_equal(view, [1, 2, 3])


def test_an_optimizer_step_leaves_a_view_of_the_old_weights():
    weight = fg.tensor([1.0, 2.0], requires_grad=True)
    view = np.from_dlpack(weight.detach())
    (weight * weight).sum().backward()
    fg.optimizers.SGD(learning_rate=0.5).apply_gradients([(weight.grad, weight)])
    np.testing.assert_allclose(weight.detach().numpy(), [0.0, 0.0])
    np.testing.assert_array_equal(view, [1.0, 2.0])


def test_a_tensor_that_requires_grad_is_refused_and_its_detached_form_shares_memory():
    t = fg.tensor([1.0, 2.0], requires_grad=True)
    with pytest.raises(RuntimeError, match=r"requires grad \(shape \[2\]\).*detach\(\)"):
        torch.from_dlpack(t)
    with pytest.raises(RuntimeError, match="requires grad"):
        np.from_dlpack(t)
    computed = t * 2
    with pytest.raises(RuntimeError, match="requires grad"):
        np.from_dlpack(computed)
    view = np.from_dlpack(t.detach())
    view[0] = 5.0
    assert t.detach().numpy()[0] == 5.0


def test_device_and_protocol_arguments():
    t = fg.tensor(np.arange(4.0))
    assert t.__dlpack_device__() == (1, 0)
    capsule = t.__dlpack__(max_version=(1, 0))
    assert "dltensor" in repr(capsule)
    # copy=True is honoured (by numpy, which makes the capsule): the result owns new memory.
    copied = np.from_dlpack(t, copy=True)
    copied[0] = 99.0
    assert t.numpy()[0] == 0.0
    with pytest.raises(ValueError, match="no streams: stream must be None, received stream=1"):
        t.__dlpack__(stream=1)


@pytest.mark.parametrize("shape", [(), (0,), (2, 0, 3), (1, 1, 1, 1)])
def test_scalars_and_empty_tensors_export(shape):
    t = fg.zeros(shape) + 1.5
    array = np.from_dlpack(t)
    assert array.shape == shape
    np.testing.assert_array_equal(array, np.full(shape, 1.5, dtype=np.float32))


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_from_dlpack_shares_torch_memory_and_keeps_the_dtype(dtype):
    source = torch.arange(12, dtype=dtype).reshape(3, 4)
    t = fg.from_dlpack(source)
    assert t.dtype == str(dtype).removeprefix("torch.") and t.shape == (3, 4)
    assert not t.requires_grad
    np.testing.assert_array_equal(t.numpy(), source.numpy())
    # The same memory, not a copy: the export of the tensor points at PyTorch's buffer.
    assert data_pointer(np.from_dlpack(t)) == source.data_ptr()
    source[0, 0] = 100.0
    assert t.numpy()[0, 0] == 100.0
    assert (t * 2).numpy()[0, 0] == 200.0  # operations read the shared memory too


def test_from_dlpack_shares_numpy_memory_both_ways():
    values = np.arange(6, dtype=np.float64).reshape(2, 3)
    t = fg.from_dlpack(values)
    assert t.dtype == "float64"
    back = np.from_dlpack(t)
    assert data_pointer(back) == data_pointer(values)
    back[1, 1] = -1.0
    assert values[1, 1] == -1.0 and t.numpy()[1, 1] == -1.0


def test_memory_that_cannot_be_shared_is_copied_in_c_order():
    source = torch.arange(12.0).reshape(3, 4)
    transposed = fg.from_dlpack(source.T)
    np.testing.assert_array_equal(transposed.numpy(), source.T.numpy())
    read_only = np.arange(4.0, dtype=np.float32)
    read_only.flags.writeable = False
    from_read_only = fg.from_dlpack(read_only)
    strided = fg.from_dlpack(np.arange(8.0, dtype=np.float32)[::2])
    empty = fg.from_dlpack(torch.zeros(0, 3))
    source[0, 1] = 50.0
    read_only_pointer = data_pointer(read_only)
    assert transposed.numpy()[1, 0] == 1.0  # a copy: the write above does not show
    assert data_pointer(np.from_dlpack(from_read_only)) != read_only_pointer
    np.testing.assert_array_equal(strided.numpy(), [0.0, 2.0, 4.0, 6.0])
    assert empty.shape == (0, 3)


def test_imported_memory_outlives_its_producer():
    t = fg.from_dlpack(torch.full((1000,), 2.5))
    gc.collect()
    _ = [torch.zeros(1000) for _ in range(10)]  # reuse freed memory, were it freed
    np.testing.assert_array_equal(t.numpy(), np.full(1000, 2.5, dtype=np.float32))
    assert t.sum().item() == 2500.0


def test_ferrograd_writes_reach_the_producer_while_nothing_else_holds_the_tensor():
    source = torch.zeros(2, 3)
    t = fg.from_dlpack(source)
    _core.assign(t, np.ones((2, 3)))
    assert torch.equal(source, torch.ones(2, 3))

    weight_source = torch.tensor([1.0, 2.0])
    weight = fg.from_dlpack(weight_source)
    weight.requires_grad = True
    (weight * weight).sum().backward()
    fg.optimizers.SGD(learning_rate=0.25).apply_gradients([(weight.grad, weight)])
    # w - 0.25 * 2w = w / 2, written into PyTorch's tensor.
    assert torch.equal(weight_source, torch.tensor([0.5, 1.0]))


def test_a_second_ferrograd_holder_makes_ferrograd_writes_copy_on_write():
    source = torch.zeros(3)
    t = fg.from_dlpack(source)
    other = t.detach()  # holds the same buffer
    _core.assign(t, np.full(3, 7.0))
    np.testing.assert_array_equal(t.numpy(), [7.0, 7.0, 7.0])
    assert torch.equal(source, torch.zeros(3))
    np.testing.assert_array_equal(other.numpy(), [0.0, 0.0, 0.0])


def test_round_trips_keep_the_values():
    values = np.random.default_rng(0).normal(size=(4, 5)).astype(np.float32)
    t = fg.tensor(values)
    np.testing.assert_array_equal(fg.from_dlpack(torch.from_dlpack(t)).numpy(), values)
    np.testing.assert_array_equal(fg.from_dlpack(np.from_dlpack(t)).numpy(), values)
    np.testing.assert_array_equal(fg.from_dlpack(values).numpy(), values)
    same = fg.from_dlpack(t)  # a ferrograd tensor: detached, sharing the buffer
    assert data_pointer(np.from_dlpack(same)) == data_pointer(np.from_dlpack(t))


@pytest.mark.parametrize(
    ("source", "dtype_name"),
    [
        (torch.arange(3), "int64"),
        (torch.zeros(3, dtype=torch.float16), "float16"),
        (torch.zeros(3, dtype=torch.bfloat16), "bfloat16"),
        (np.array([True, False]), "bool"),
        (np.zeros(2, dtype=np.complex64), "complex64"),
    ],
)
def test_from_dlpack_refuses_what_is_not_float32_or_float64(source, dtype_name):
    with pytest.raises(
        TypeError, match=rf"float32 or float64 .*received dtype (torch\.)?{dtype_name}"
    ):
        fg.from_dlpack(source)


def test_from_dlpack_refuses_objects_without_the_protocol_and_grad_tensors():
    with pytest.raises(TypeError, match=r"__dlpack__ .* received list"):
        fg.from_dlpack([1.0, 2.0])
    # PyTorch's own refusal: a BufferError in recent versions, a RuntimeError in older ones.
    with pytest.raises((BufferError, RuntimeError), match="require"):
        fg.from_dlpack(torch.zeros(2, requires_grad=True))


def test_from_dlpack_refuses_device_memory():
    class OnTheGpu:
        def __dlpack__(self, **kwargs):
            raise AssertionError("must not be called")

        def __dlpack_device__(self):
            return (2, 1)

    with pytest.raises(BufferError, match=r"main memory only; the data is on CUDA \(device 1\)"):
        fg.from_dlpack(OnTheGpu())

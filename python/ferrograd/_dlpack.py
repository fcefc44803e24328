"""``fg.from_dlpack``: a tensor from any object that speaks DLPack (PyTorch, numpy, JAX, CuPy on
the host, ...). The export side is ``Tensor.__dlpack__``, in the Rust binding."""

from __future__ import annotations

import numpy as np

from ferrograd._core import Tensor, _share_numpy_array

# DLPack device types whose memory the CPU can read (numpy accepts these and no others).
_HOST_DEVICES = {1: "CPU", 3: "CUDA host (pinned)", 11: "ROCm host (pinned)"}
_DEVICE_NAMES = {
    2: "CUDA",
    4: "OpenCL",
    7: "Vulkan",
    8: "Metal",
    9: "VPI",
    10: "ROCm",
    13: "CUDA managed",
    14: "oneAPI",
}


def from_dlpack(obj) -> Tensor:
    """A tensor over the memory of ``obj``, an array that implements ``__dlpack__`` (a PyTorch
    tensor, a numpy array, ...), without a copy, as ``torch.from_dlpack`` does.

    The tensor and ``obj`` see the same memory: a write on either side (an optimizer step, an
    ``assign``, an in-place PyTorch op) shows on the other, and the memory stays alive for as
    long as either does. Copy-on-write still holds on the ferrograd side: a tensor whose data
    is also held elsewhere in ferrograd (by a graph being recorded, or by a second tensor made
    from it) is moved to a fresh buffer before ferrograd writes to it, which ends the sharing.
    Memory that cannot be shared as a C-ordered writable buffer (a transposed or strided view, a
    read-only or misaligned array, an empty one) is copied instead. A ferrograd tensor given
    here is returned detached, sharing its buffer.

    Args:
        obj: an object with ``__dlpack__`` and ``__dlpack_device__`` whose data is in main
            memory, of dtype float32 or float64 (the dtype is kept).

    Returns:
        A tensor that does not require grad.

    Raises:
        TypeError: ``obj`` does not implement DLPack, or its dtype is not float32/float64.
        BufferError: ``obj`` lives on a device the CPU cannot read (move it first, e.g.
            ``t.cpu()``).

    Examples:
        >>> source = torch.arange(6.0).reshape(2, 3)
        >>> t = fg.from_dlpack(source)
        >>> source[0, 0] = 10.0
        >>> t.shape, t.dtype, t.numpy()[0, 0]
        ((2, 3), dtype('float32'), np.float32(10.0))
    """
    if isinstance(obj, Tensor):
        return obj.detach()
    if not hasattr(obj, "__dlpack__") or not hasattr(obj, "__dlpack_device__"):
        raise TypeError(
            "from_dlpack needs an object with __dlpack__ and __dlpack_device__ (a PyTorch "
            f"tensor, a numpy array, ...), received {type(obj).__name__}"
        )
    device_type, device_id = obj.__dlpack_device__()
    if int(device_type) not in _HOST_DEVICES:
        device = _DEVICE_NAMES.get(int(device_type), f"device type {int(device_type)}")
        raise BufferError(
            f"from_dlpack reads main memory only; the data is on {device} (device "
            f"{int(device_id)}): copy it to the CPU first, e.g. t.cpu()"
        )
    try:
        array = np.from_dlpack(obj)
    except Exception as error:
        # numpy refuses dtypes it has no equivalent for (bfloat16, float8) before we can look;
        # the other failures (a PyTorch tensor that requires grad) keep their own message.
        dtype = getattr(obj, "dtype", None)
        if dtype is None or str(dtype).endswith(("float32", "float64")):
            raise
        raise TypeError(
            f"from_dlpack takes float32 or float64 data, received dtype {dtype} ({error})"
        ) from error
    if array.dtype not in (np.float32, np.float64):
        raise TypeError(
            f"from_dlpack takes float32 or float64 data, received dtype {array.dtype}; convert "
            "it first (e.g. t.float() in PyTorch, a.astype('float32') in numpy)"
        )
    return _share_numpy_array(array)

"""``fg.from_dlpack``: a tensor from any object that speaks DLPack (PyTorch, numpy, JAX, CuPy on
the host, ...). The export side is ``Tensor.__dlpack__``, in the Rust binding."""

from __future__ import annotations

import numpy as np

from ferrograd._core import Tensor, tensor

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
    """A tensor with the values of ``obj``, an array that implements ``__dlpack__`` (a PyTorch
    tensor, a numpy array, ...).

    The values are copied once: a ferrograd tensor owns its buffer (its storage is a Rust array
    that copy-on-write may reallocate), so it cannot adopt another library's memory. A ferrograd
    tensor given here is returned detached, sharing its buffer. The other direction has no copy:
    ``torch.from_dlpack(t)`` and ``np.from_dlpack(t)`` view the tensor's memory.

    Args:
        obj: an object with ``__dlpack__`` and ``__dlpack_device__`` whose data is in main
            memory, of dtype float32 or float64 (the dtype is kept).

    Returns:
        A tensor that does not require grad.

    Raises:
        TypeError: ``obj`` does not implement DLPack, or its dtype is not float32/float64.
        BufferError: ``obj`` lives on a device the CPU cannot read (move it first, e.g.
            ``t.cpu()``).

    Example:
        >>> t = fg.from_dlpack(torch.arange(6.0).reshape(2, 3))
        >>> t.shape, t.dtype
        ((2, 3), 'float32')
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
    return tensor(array, dtype=array.dtype.name)

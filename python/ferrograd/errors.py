"""Exceptions raised by ferrograd.

Each one is also a builtin exception, so code that catches ``ValueError`` or ``TypeError``
keeps working.
"""


class ShapeError(ValueError):
    """Shapes that an operation cannot accept or combine; the message names both."""


class DTypeError(TypeError):
    """Tensors of different dtypes where one dtype is needed."""


class AutogradError(RuntimeError, ValueError):
    """A backward pass that cannot run: no graph, a freed graph, or a non-scalar root."""


class NotCompiledError(RuntimeError, ValueError):
    """Training or evaluating a model that has not been compiled."""


class FileFormatError(ValueError):
    """A file that is truncated, corrupt, hostile or not of the expected kind."""


__all__ = ["AutogradError", "DTypeError", "FileFormatError", "NotCompiledError", "ShapeError"]

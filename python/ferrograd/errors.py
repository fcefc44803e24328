"""Exceptions raised by ferrograd.

Each one is also a builtin exception, so code that catches ``ValueError`` or ``TypeError``
keeps working.
"""


class ShapeError(ValueError):
    """Shapes that an operation cannot accept or combine; the message names both.

    Args:
        *args: the message, as for any exception.

    Examples:
        >>> try:
        ...     fg.ones(2, 3) @ fg.ones(2, 3)
        ... except fg.errors.ShapeError as error:
        ...     print(isinstance(error, ValueError))
        True
    """


class DTypeError(TypeError):
    """Tensors of different dtypes where one dtype is needed.

    Args:
        *args: the message, as for any exception.

    Examples:
        >>> issubclass(fg.errors.DTypeError, TypeError)
        True
    """


class AutogradError(RuntimeError, ValueError):
    """A backward pass that cannot run: no graph, a freed graph, or a non-scalar root.

    Args:
        *args: the message, as for any exception.

    Examples:
        >>> try:
        ...     fg.ones(2, requires_grad=True).backward()
        ... except fg.errors.AutogradError as error:
        ...     print(isinstance(error, RuntimeError))
        True
    """


class NotCompiledError(RuntimeError, ValueError):
    """Training or evaluating a model that has not been compiled.

    Args:
        *args: the message, as for any exception.

    Examples:
        >>> raw = fg.Sequential([layers.Dense(1, input_shape=(3,))])
        >>> try:
        ...     raw.fit(x, y, verbose=0)
        ... except fg.errors.NotCompiledError as error:
        ...     print("not compiled")
        not compiled
    """


class FileFormatError(ValueError):
    """A file that is truncated, corrupt, hostile or not of the expected kind.

    Args:
        *args: the message, as for any exception.

    Examples:
        >>> _ = open("broken.fgm", "wb").write(b"not a model")
        >>> try:
        ...     fg.models.load_model("broken.fgm")
        ... except fg.errors.FileFormatError as error:
        ...     print(isinstance(error, ValueError))
        True
    """


class TracingError(ValueError):
    """Python code (a subclassed layer's or model's ``call()``, a ``Lambda``, a custom loss)
    that cannot be traced into a graph: it reads the values of tensors, computes with something
    the tracer cannot follow, or takes different paths for different batches. The message says
    where and suggests ``compile(run_eagerly=True)``.

    Args:
        *args: the message, as for any exception.

    Examples:
        >>> issubclass(fg.errors.TracingError, ValueError)
        True
    """


class TracedValueError(TracingError):
    """Raised by the core when traced code reads the value of a traced tensor (``float(x)``,
    ``x.numpy()``, ``if x > 0:``); the tracer turns it into a ``TracingError`` naming the line.

    Args:
        *args: the message, as for any exception.

    Examples:
        >>> issubclass(fg.errors.TracedValueError, fg.errors.TracingError)
        True
    """


__all__ = [
    "AutogradError",
    "DTypeError",
    "FileFormatError",
    "NotCompiledError",
    "ShapeError",
    "TracedValueError",
    "TracingError",
]

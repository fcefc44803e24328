"""``no_grad``: a context manager and decorator that stops recording the graph."""

import functools

from ferrograd import _core


class no_grad:  # noqa: N801 - named like PyTorch's, which users type from memory
    """Runs the enclosed code without recording a graph (per thread), as ``torch.no_grad``.

    Use it as a context manager (``with fg.no_grad():``) or as a decorator (``@fg.no_grad()``);
    the constructor takes no argument. Grad mode is restored on exit, also after an exception.

    Args:
        function: (when the instance decorates one) the function to run without a graph.

    Examples:
        >>> with fg.no_grad():
        ...     out = model(x)
        >>> out.requires_grad
        False
        >>> @fg.no_grad()
        ... def predict(inputs):
        ...     return model(inputs)
        >>> predict(x).requires_grad
        False
    """

    def __enter__(self) -> None:
        self._previous = _core._set_grad_enabled(False)

    def __exit__(self, *exc_info: object) -> None:
        _core._set_grad_enabled(self._previous)

    def __call__(self, function):
        @functools.wraps(function)
        def wrapper(*args, **kwargs):
            with no_grad():
                return function(*args, **kwargs)

        return wrapper

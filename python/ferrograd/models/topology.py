"""The order in which a functional model's symbolic tensors are computed."""

from __future__ import annotations


def topological_order(output) -> list:
    """Every symbolic tensor ``output`` depends on, each after its inputs (found iteratively,
    so that deep graphs do not hit Python's recursion limit).

    Args:
        output: the symbolic tensor a model outputs, or a list of them.

    Examples:
        >>> inputs = layers.Input(shape=(3,))
        >>> outputs = layers.Dense(2)(inputs)
        >>> topological_order(outputs) == [inputs, outputs]
        True
    """
    outputs = list(output) if isinstance(output, (list, tuple)) else [output]
    order, done, stack = [], set(), [(t, False) for t in reversed(outputs)]
    while stack:
        tensor, inputs_done = stack.pop()
        if inputs_done:
            order.append(tensor)
            continue
        if id(tensor) in done:
            continue
        done.add(id(tensor))
        stack.append((tensor, True))
        stack.extend((t, False) for t in reversed(tensor._inputs) if id(t) not in done)
    return order

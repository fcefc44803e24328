"""Products: ``matmul``, ``dot`` and the two-operand ``einsum``, each differentiable."""

from typing import Any

from ferrograd._core import Tensor
from ferrograd.ops._convert import shape_of, to_tensors


def matmul(x1: Any, x2: Any) -> Tensor:
    """The matrix product with numpy's rules: 1-D operands are vectors, leading axes are
    batch axes and broadcast.

    Args:
        x1: A tensor or array.
        x2: A tensor or array.

    Returns:
        A tensor.

    Examples:
        >>> fg.ops.matmul(fg.ones(2, 3), fg.ones(3, 4)).shape
        (2, 4)
    """
    a, b = to_tensors(x1, x2)
    if a.ndim == 0 or b.ndim == 0:
        raise ValueError(
            f"matmul: operands must have at least one dimension, received shapes "
            f"{tuple(a.shape)} and {tuple(b.shape)}"
        )
    inner_a = a.shape[-1]
    inner_b = b.shape[-2] if b.ndim > 1 else b.shape[0]
    if inner_a != inner_b:
        raise ValueError(
            f"matmul: shapes {tuple(a.shape)} and {tuple(b.shape)} do not fit (the last axis "
            f"of x1, {inner_a}, must equal the {'second-to-last' if b.ndim > 1 else 'only'} "
            f"axis of x2, {inner_b})"
        )
    return a @ b


def dot(x1: Any, x2: Any) -> Tensor:
    """numpy's ``dot``: a product for scalars, ``matmul`` for 1-D and 2-D operands, and for
    higher ranks a sum over the last axis of ``x1`` and the second-to-last of ``x2``.

    Args:
        x1: A tensor or array.
        x2: A tensor or array.

    Returns:
        A tensor.

    Examples:
        >>> fg.ops.dot(fg.tensor([1.0, 2.0]), fg.tensor([3.0, 4.0])).item()
        11.0
    """
    a, b = to_tensors(x1, x2)
    if a.ndim == 0 or b.ndim == 0:
        return a * b
    if b.ndim <= 2:
        return matmul(a, b)
    letters = "abcdefghijklmnopqrstuvwxyz"
    left = letters[: a.ndim - 1] + "z"
    right = letters[a.ndim - 1 : a.ndim + b.ndim - 3] + "z" + "y"
    out = left[:-1] + right[:-2] + "y"
    return einsum(f"{left},{right}->{out}", a, b)


def _parse(subscripts: str, count: int) -> tuple[list[str], str]:
    spec = subscripts.replace(" ", "")
    if "." in spec:
        raise ValueError(f"einsum: ellipses ('...') are not supported, received {subscripts!r}")
    inputs, arrow, output = spec.partition("->")
    terms = inputs.split(",")
    if len(terms) != count:
        raise ValueError(f"einsum: {subscripts!r} names {len(terms)} operands, received {count}")
    if not arrow:
        letters = "".join(terms)
        output = "".join(sorted(c for c in set(letters) if letters.count(c) == 1))
    for term in terms:
        if len(set(term)) != len(term):
            raise ValueError(
                f"einsum: a letter repeated within one operand (a trace or diagonal) is not "
                f"supported, received {subscripts!r}"
            )
    if not all(c.isalpha() for c in "".join(terms) + output):
        raise ValueError(f"einsum: subscripts must be letters, received {subscripts!r}")
    return terms, output


def einsum(subscripts: str, *operands: Any) -> Tensor:
    """Einstein summation over one or two operands (``"ij,jk->ik"``, ``"bij->bji"``, ...):
    letters in the output are kept, the others summed. Each operand is laid out over all the
    letters, the two are multiplied with broadcasting and the summed letters reduced, so the
    product of all the letters' sizes must fit in memory. Ellipses and repeated letters within
    one operand are not supported.

    Args:
        subscripts: The Einstein-summation subscripts, e.g. ``"ij,jk->ik"``.
        *operands: The tensors, one per operand in ``subscripts``.

    Returns:
        A tensor.

    Examples:
        >>> fg.ops.einsum("ij,jk->ik", fg.ones(2, 3), fg.ones(3, 4)).shape
        (2, 4)
    """
    if len(operands) not in (1, 2):
        raise ValueError(f"einsum: one or two operands are supported, received {len(operands)}")
    terms, output = _parse(subscripts, len(operands))
    tensors = to_tensors(*operands)
    sizes: dict[str, int] = {}
    for term, t in zip(terms, tensors, strict=True):
        if len(term) != t.ndim:
            raise ValueError(
                f"einsum: operand subscripts {term!r} do not fit an operand of shape "
                f"{tuple(t.shape)}"
            )
        for letter, size in zip(term, t.shape, strict=True):
            if sizes.setdefault(letter, size) != size and 1 not in (size, sizes[letter]):
                raise ValueError(
                    f"einsum: letter {letter!r} has sizes {sizes[letter]} and {size} in "
                    f"{subscripts!r} (operand shapes {[shape_of(t) for t in tensors]})"
                )
            sizes[letter] = max(sizes[letter], size)
    for letter in output:
        if letter not in sizes:
            raise ValueError(f"einsum: output letter {letter!r} is in no operand ({subscripts!r})")
    order = list(output) + sorted(set(sizes) - set(output))
    aligned = []
    for term, t in zip(terms, tensors, strict=True):
        present = [c for c in order if c in term]
        t = t.transpose([term.index(c) for c in present]) if t.ndim > 1 else t
        aligned.append(t.reshape([t.shape[present.index(c)] if c in term else 1 for c in order]))
    product = aligned[0] if len(aligned) == 1 else aligned[0] * aligned[1]
    summed = tuple(range(len(output), len(order)))
    if summed:
        product = product.sum(axis=summed)
    return product

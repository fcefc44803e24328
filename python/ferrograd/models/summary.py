"""``summary_text``: Keras's table of a model's layers, output shapes and parameter counts."""

from __future__ import annotations

import numpy as np

from ferrograd.layers.input_layer import InputLayer
from ferrograd.layers.shapes import format_shape


def summary_text(model, line_length=None, show_trainable=False) -> str:
    """Keras's summary table: layers, output shapes, parameter counts and totals.

    Args:
        model: a built ``Model``.
        line_length: the least width of the table, in characters.
        show_trainable: add Keras's "Trainable" column: ``Y`` or ``N`` for a layer with
            weights, ``-`` for one without.

    Examples:
        >>> model = fg.Sequential([layers.Dense(2, input_shape=(3,))], name="tiny")
        >>> print(summary_text(model).splitlines()[0])
        Model: "tiny"
    """
    # A Sequential model not built yet lists its layers with unknown shapes, as Keras's does.
    graph = model._graph if model.layers else model._require_graph()
    rows = []
    for layer in model.layers:
        if graph is None:
            shape, params = "?", "0 (unbuilt)" if not layer.built else f"{layer.count_params():,}"
        else:
            if isinstance(layer, InputLayer):
                shape = format_shape(layer.shape)
            else:
                shape = format_shape(graph.node_shape(model._node_of_layer[id(layer)]))
            params = f"{layer.count_params():,}"
        row = [f"{layer.name} ({layer_type(layer)})", shape, params]
        if show_trainable:
            row.append(("Y" if layer.trainable else "N") if layer.weights else "-")
        rows.append(row)
    widths = [max([31, *(len(r[0]) for r in rows)]), max([22, *(len(r[1]) for r in rows)]), 13]
    headers = ["Layer (type)", "Output Shape", "Param #"]
    if show_trainable:
        widths.append(9)
        headers.append("Trainable")
    if line_length:
        widths[0] = max(widths[0], line_length - sum(widths[1:]) - 3 * len(widths) - 1)

    def line(left, mid, right, fill):
        return left + mid.join(fill * (w + 2) for w in widths) + right

    def cells(values, border):
        padded = [
            f" {values[0]:<{widths[0]}} ",
            f" {values[1]:<{widths[1]}} ",
            f" {values[2]:>{widths[2]}} ",
            *(f" {value:^{width}} " for value, width in zip(values[3:], widths[3:], strict=True)),
        ]
        return border + border.join(padded) + border

    out = [f'Model: "{model.name}"', line("┏", "┳", "┓", "━")]
    out.append(cells(headers, "┃"))
    out.append(line("┡", "╇", "┩", "━"))
    for i, row in enumerate(rows):
        out.append(cells(row, "│"))
        if i < len(rows) - 1:
            out.append(line("├", "┼", "┤", "─"))
    out.append(line("└", "┴", "┘", "─"))
    itemsize = np.dtype(model._dtype()).itemsize
    trainable = sum(w.size for w in model.trainable_weights)
    non_trainable = sum(w.size for w in model.non_trainable_weights)
    total = trainable + non_trainable
    out.append(f" Total params: {total:,} ({format_bytes(total * itemsize)})")
    out.append(f" Trainable params: {trainable:,} ({format_bytes(trainable * itemsize)})")
    out.append(
        f" Non-trainable params: {non_trainable:,} ({format_bytes(non_trainable * itemsize)})"
    )
    return "\n".join(out)


def format_bytes(size: int) -> str:
    """A byte count as Keras's summaries write it.

    Args:
        size: the number of bytes.

    Examples:
        >>> format_bytes(512), format_bytes(4096)
        ('512.00 B', '4.00 KB')
    """
    for unit in ("B", "KB", "MB", "GB"):
        if size < 1024 or unit == "GB":
            return f"{size:.2f} {unit}"
        size /= 1024
    return f"{size:.2f} GB"


def layer_type(layer) -> str:
    """The type a summary row names: the class name, and "Functional" for a nested
    functional model, as Keras writes it.

    Args:
        layer: a layer or a nested model.

    Examples:
        >>> layer_type(layers.Dense(2))
        'Dense'
    """
    from ferrograd.models.model import Model

    if type(layer) is Model:
        return "Functional"
    return type(layer).__name__

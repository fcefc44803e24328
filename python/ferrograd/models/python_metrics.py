"""``PythonMetrics``: the model's metrics written in Python (``fg.metrics.Metric`` subclasses
with their own state, metric functions), which the Rust ``fit``/``evaluate`` loop updates once
per batch through its hooks; the built-in metrics stay in Rust."""

from __future__ import annotations

import numpy as np


class PythonMetrics:
    """What ``_core.fit``/``_core.evaluate`` take as ``python_metrics``: ``reset()`` at each
    pass over the data, ``update(ys, predictions)`` after each batch (numpy arrays, one per
    model output, the predictions after the output activation) returning the values so far.

    Args:
        entries: ``(output index, log name, metric)`` triples.

    Examples:
        >>> metric = fg.metrics.MeanMetricWrapper(fg.losses.mae, name="mae")
        >>> hook = PythonMetrics([(0, "mae", metric)])
        >>> hook.reset()
        >>> hook.update([np.zeros((2, 1))], [np.ones((2, 1))])
        [('mae', 1.0)]
    """

    def __init__(self, entries) -> None:
        self.entries = list(entries)

    def reset(self) -> None:
        """Resets every metric (a pass over the data begins)."""
        for _, _, metric in self.entries:
            metric.reset_state()

    def update(self, ys, predictions) -> list:
        """Updates every metric with one batch and returns ``[(log name, value), ...]``.

        Args:
            ys: the targets, one array per model output.
            predictions: the predictions, one array per model output.
        """
        values = []
        for index, name, metric in self.entries:
            metric.update_state(ys[index], predictions[index])
            values.append((name, float(np.asarray(metric.result()))))
        return values


def python_metrics(entries):
    """A ``PythonMetrics`` of ``entries``, or None when there are none (the Rust loop then never
    takes the GIL for metrics).

    Args:
        entries: ``(output index, log name, metric)`` triples.

    Examples:
        >>> python_metrics([]) is None
        True
    """
    return PythonMetrics(entries) if entries else None

"""A Keras-style progress bar:

    Epoch 1/10
    23/23 ━━━━━━━━━━━━━━━━━━━━ 0s 2ms/step - accuracy: 0.8125 - loss: 0.4312 - val_loss: ...

It redraws in place (a carriage return) in a terminal and in Jupyter; when the output is a file
or a pipe it writes each finished line once, so logs stay readable.
"""

from __future__ import annotations

import sys
import time

BAR_WIDTH = 20


def interactive(stream) -> bool:
    """Whether ``stream`` shows a redrawn line as such (a terminal or a notebook)."""
    if "ipykernel" in sys.modules:
        return True
    try:
        return stream.isatty()
    except (AttributeError, ValueError):
        return False


def format_duration(seconds: float) -> str:
    if seconds >= 3600:
        return f"{int(seconds // 3600)}:{int(seconds % 3600 // 60):02d}:{int(seconds % 60):02d}"
    if seconds >= 60:
        return f"{int(seconds // 60)}:{int(seconds % 60):02d}"
    return f"{int(round(seconds))}s"


def format_per_step(seconds: float) -> str:
    if seconds >= 1:
        return f"{seconds:.0f}s/step"
    if seconds >= 1e-3:
        return f"{seconds * 1e3:.0f}ms/step"
    return f"{seconds * 1e6:.0f}us/step"


def format_logs(logs: dict) -> str:
    """`` - name: value`` with 4 decimals, in alphabetical order."""
    parts = []
    for name in sorted(logs):
        value = logs[name]
        text = f"{value:.4f}" if abs(value) >= 1e-3 or value == 0 else f"{value:.4e}"
        parts.append(f" - {name}: {text}")
    return "".join(parts)


class Progbar:
    """Shows the progress of ``target`` steps (None when unknown).

    Args:
        target: the number of steps, or None.
        verbose: 1 for the redrawn bar, 2 for one line at the end.
        stream: where to write (default: sys.stdout at the time of each write).
    """

    def __init__(self, target: int | None, verbose: int = 1, stream=None):
        self.target = target
        self.verbose = verbose
        self._stream = stream
        self._start = time.perf_counter()
        self._last_width = 0

    @property
    def stream(self):
        return self._stream if self._stream is not None else sys.stdout

    def update(self, current: int, logs: dict | None = None, finalize: bool = False) -> None:
        """Shows ``current`` steps done with the running ``logs``; ``finalize`` ends the line."""
        logs = logs or {}
        if self.verbose == 2 and not finalize:
            return
        if self.verbose == 1 and not finalize and not interactive(self.stream):
            return
        elapsed = time.perf_counter() - self._start
        per_step = elapsed / max(current, 1)
        if self.target is None:
            line = f"{current}/Unknown {format_duration(elapsed)} {format_per_step(per_step)}"
        else:
            width = len(str(self.target))
            done = min(BAR_WIDTH, int(BAR_WIDTH * current / max(self.target, 1)))
            bar = "━" * done + "─" * (BAR_WIDTH - done)
            shown = elapsed if finalize else per_step * max(self.target - current, 0)
            line = (
                f"{current:>{width}}/{self.target} {bar} {format_duration(shown)} "
                f"{format_per_step(per_step)}"
            )
        if self.verbose == 2:
            line = (
                f"{current}/{self.target} - {format_duration(elapsed)} {format_per_step(per_step)}"
            )
        line += format_logs(logs)
        stream = self.stream
        if self.verbose == 1 and interactive(stream):
            padding = " " * max(self._last_width - len(line), 0)
            stream.write("\r" + line + padding)
            self._last_width = len(line)
        else:
            stream.write(line)
        if finalize:
            stream.write("\n")
        stream.flush()

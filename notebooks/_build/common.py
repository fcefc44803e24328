"""Writes a notebook from a list of cells and runs it, keeping its outputs.

Each generator script (mnist_mlp.py, ...) calls build(); run it from anywhere with the
project's venv active and FERROGRAD_DATA set. Pass --no-execute to write the cells only.
"""

import sys
import time
from pathlib import Path

import nbformat
from nbclient import NotebookClient
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

NOTEBOOKS = Path(__file__).resolve().parents[1]


def build(name, cells):
    notebook = new_notebook()
    notebook.metadata = {
        "kernelspec": {"display_name": "Python 3", "language": "python", "name": "python3"},
        "language_info": {"name": "python"},
    }
    for kind, text in cells:
        text = text.strip("\n")
        notebook.cells.append(new_markdown_cell(text) if kind == "md" else new_code_cell(text))
    path = NOTEBOOKS / name
    if "--no-execute" not in sys.argv:
        started = time.perf_counter()
        # coalesce_streams keeps only the last state of the progress bar's redrawn lines.
        NotebookClient(
            notebook,
            timeout=900,
            kernel_name="python3",
            coalesce_streams=True,
            resources={"metadata": {"path": str(NOTEBOOKS)}},
        ).execute()
        print(f"{name}: ran in {time.perf_counter() - started:.1f} s")
    nbformat.write(notebook, path)

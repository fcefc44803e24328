"""The walkthrough notebooks in ``notebooks/`` run from start to end in a fresh kernel, and what
they show holds: each prints one line ``RESULTS {json}`` with the numbers its text relies on, and
these tests check them and count the figures drawn.

The notebooks run as a user runs them: kernel ``python3``, working directory ``notebooks/``, the
environment of this process (``FERROGRAD_DATA`` included, for MNIST). They take minutes; leave
them out with ``pytest -m "not notebook"``.
"""

import json
import os
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

NOTEBOOKS = Path(__file__).resolve().parents[1] / "notebooks"
CELL_TIMEOUT_S = 600

pytestmark = pytest.mark.notebook


def run_notebook(name: str) -> tuple[dict, int]:
    """Runs ``notebooks/<name>``; returns its RESULTS and the number of figures it drew."""
    notebook = nbformat.read(NOTEBOOKS / name, as_version=4)
    kernel_env = dict(os.environ)
    # A non-interactive MPLBACKEND (Agg, as on many CI runners) would stop the inline backend
    # from sending figures, and the figure counts below would fail for the wrong reason.
    kernel_env.pop("MPLBACKEND", None)
    NotebookClient(
        notebook,
        timeout=CELL_TIMEOUT_S,
        kernel_name="python3",
        resources={"metadata": {"path": str(NOTEBOOKS)}},
    ).execute(env=kernel_env)

    results_lines = []
    figures = 0
    for cell in notebook.cells:
        for output in cell.get("outputs", []):
            if output.get("output_type") == "stream":
                results_lines += [
                    line for line in output["text"].splitlines() if line.startswith("RESULTS ")
                ]
            if "image/png" in output.get("data", {}):
                figures += 1
    assert len(results_lines) == 1, f"{name} printed {len(results_lines)} RESULTS lines"
    return json.loads(results_lines[0].removeprefix("RESULTS ")), figures


def test_every_notebook_is_tested():
    tested = {
        "autograd_basics.ipynb",
        "synthetic_classification.ipynb",
        "mnist_mlp.ipynb",
        "mnist_convnet.ipynb",
        "text_classification.ipynb",
        "transformer_text_classification.ipynb",
    }
    assert {path.name for path in NOTEBOOKS.glob("*.ipynb")} == tested


def test_autograd_basics():
    results, figures = run_notebook("autograd_basics.ipynb")
    assert results["gradient_check_error"] < 1e-7
    assert results["regression_weight"] == pytest.approx(3.0, abs=0.1)
    assert results["regression_bias"] == pytest.approx(2.0, abs=0.1)
    # The text claims the linear model can do no better than 0.25 and the MLP fits XOR.
    assert results["xor_linear_loss"] == pytest.approx(0.25, abs=0.01)
    assert results["xor_mlp_accuracy"] == 1.0
    assert figures == 2


def test_synthetic_classification():
    results, figures = run_notebook("synthetic_classification.ipynb")
    assert results["test_accuracy"] >= 0.83
    # The regularisation section claims L2 and dropout keep the validation loss down.
    assert results["val_loss_regularized_final"] < results["val_loss_plain_final"]
    assert 5 < results["early_stopping_epochs"] < 200
    assert results["val_accuracy_Adam"] >= 0.85
    assert results["val_accuracy_SGD + momentum 0.9"] >= 0.85
    assert figures == 4


def test_mnist_mlp():
    results, figures = run_notebook("mnist_mlp.ipynb")
    assert results["fit_test_accuracy"] >= 0.98
    assert results["hand_loop_test_accuracy"] >= 0.96  # after two epochs
    sgd = results["sgd_test_accuracy_per_epoch"]
    adam = results["adam_test_accuracy_per_epoch"]
    assert len(sgd) == len(adam) == 10
    assert sgd[-1] >= 0.94 and sgd[-1] > sgd[0]
    assert adam[-1] >= 0.965
    # The text claims Adam gets there in fewer epochs.
    assert adam[0] > sgd[0] and adam[4] > sgd[4]
    assert results["figures"] == figures == 5


def test_mnist_convnet():
    results, figures = run_notebook("mnist_convnet.ipynb")
    # The keras.io example's claim: at least 0.99 on the MNIST test set.
    assert results["mnist_test_accuracy"] >= 0.99
    # The deeper convnet with batch normalisation and augmentation, on a short run.
    assert results["fashion_test_accuracy"] >= 0.83
    assert len(results["most_confused"]) == 2
    # Augmented samples, learning curves, predictions, confusion matrix, filters.
    assert results["figures"] == figures == 5


def test_text_classification():
    results, figures = run_notebook("text_classification.ipynb")
    lstm = results["lstm_test_accuracy"]
    # The data is built so that word counts are not enough: the baselines must fall short,
    # and the LSTM, which reads the words in order, must not.
    assert results["bag_of_words_test_accuracy"] < 0.7
    assert results["bigrams_test_accuracy"] < 0.8
    assert lstm >= 0.95
    assert lstm >= results["bigrams_test_accuracy"] + 0.15
    assert results["figures"] == figures == 2


def test_transformer_text_classification():
    results, figures = run_notebook("transformer_text_classification.ipynb")
    # The keras.io Transformer, its layers written in Python and traced: it must read word
    # order as well as the LSTM did on the same reviews, and beat the bag-of-words baselines.
    assert results["transformer_test_accuracy"] >= 0.97
    assert results["transformer_test_accuracy"] >= results["lstm_test_accuracy"] - 0.01
    assert results["transformer_test_accuracy"] >= results["bigrams_test_accuracy"] + 0.2
    # The graph traced from the Python layers computes what their call() computes.
    assert results["traced_minus_eager"] < 1e-5
    assert results["figures"] == figures == 2

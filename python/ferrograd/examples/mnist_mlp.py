"""Trains and evaluates the classic MNIST MLP from the shell.

    python -m ferrograd.examples.mnist_mlp [--epochs 10] [--batch-size 64] [--data DIR]

The model is 784-512-256-128-10 with ReLU, trained with Adam (learning rate 1e-3) on
cross-entropy, with the progress bar; it prints the test accuracy and the time per epoch.
The data is read from ``--data`` (a folder with the four MNIST IDX files, gzipped or not), else
from ``$FERROGRAD_DATA/mnist``, the cache, or the standard mirrors.
"""

from __future__ import annotations

import argparse
import sys
import time

import numpy as np

import ferrograd as fg
from ferrograd import layers


def build_model() -> fg.Sequential:
    return fg.Sequential(
        [
            layers.Dense(512, activation="relu", input_shape=(784,)),
            layers.Dense(256, activation="relu"),
            layers.Dense(128, activation="relu"),
            layers.Dense(10, activation="softmax"),
        ]
    )


class EpochTimer(fg.callbacks.Callback):
    def on_epoch_begin(self, epoch, logs=None):
        self.started = time.perf_counter()

    def on_epoch_end(self, epoch, logs=None):
        self.times = getattr(self, "times", []) + [time.perf_counter() - self.started]


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=10)
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--data", default=None, help="a folder holding the MNIST IDX files")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)

    try:
        (x_train, y_train), (x_test, y_test) = fg.datasets.mnist.load_data(path=args.data)
    except (OSError, ValueError) as error:
        print(f"Cannot load MNIST: {error}", file=sys.stderr)
        return 1
    x_train = x_train.reshape(-1, 784).astype("float32") / 255
    x_test = x_test.reshape(-1, 784).astype("float32") / 255

    fg.set_seed(args.seed)
    model = build_model()
    model.compile(
        optimizer=fg.optimizers.Adam(learning_rate=1e-3),
        loss="sparse_categorical_crossentropy",
        metrics=["accuracy"],
    )
    model.summary()
    timer = EpochTimer()
    model.fit(
        x_train,
        y_train,
        batch_size=args.batch_size,
        epochs=args.epochs,
        validation_split=0.1,
        callbacks=[timer],
    )
    loss, accuracy = model.evaluate(x_test, y_test, verbose=0)
    seconds = getattr(timer, "times", [float("nan")])
    print(f"Test accuracy: {accuracy:.4f} (loss {loss:.4f})")
    print(
        f"Time per epoch: {np.median(seconds):.2f} s (median of {len(seconds)}, "
        f"{fg.get_num_threads()} threads)"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())

from common import build

cells = [
("md", """
# MNIST with a multilayer perceptron

The classic first network on real data: 70,000 handwritten digits, 28x28 grey pixels, and a
dense network 784-512-256-128-10 with ReLU and dropout, trained with Adam on cross-entropy. We train it with
`fit`, look at its learning curves, its predictions and its confusion matrix; then train the
same network with a hand-written loop (the low-level, PyTorch-style API), and compare Adam with
the SGD-with-momentum setup of the classic PyTorch example.

The data is read from `$FERROGRAD_DATA/mnist/` (the four IDX files, gzipped or not), else from
the cache, else downloaded from the public mirrors.
"""),
("code", """
import json
import time

import matplotlib.pyplot as plt
import numpy as np
from sklearn.metrics import ConfusionMatrixDisplay, confusion_matrix

import ferrograd as fg
from ferrograd import layers

fg.set_seed(0)
results = {}
figures_shown = 0


def show(fig):
    \"\"\"Shows a figure and counts it (the tests check that every figure was drawn).\"\"\"
    global figures_shown
    fig.tight_layout()
    plt.show()
    figures_shown += 1
"""),
("md", """
## The data

`load_data()` returns uint8 arrays: 60,000 training and 10,000 test images, and their labels.
The network takes a flat vector of 784 values, scaled to [0, 1].
"""),
("code", """
(x_train_images, y_train), (x_test_images, y_test) = fg.datasets.mnist.load_data()
print(x_train_images.shape, x_train_images.dtype, y_train[:10])

x_train = x_train_images.reshape(-1, 784).astype("float32") / 255
x_test = x_test_images.reshape(-1, 784).astype("float32") / 255
print(x_train.shape, x_test.shape, x_train.min(), x_train.max())
"""),
("md", """
## The model

Three hidden ReLU layers and a softmax over the ten digits. The labels are integers, so the
loss is the sparse categorical cross-entropy. As in Keras's classic MNIST MLP, dropout (20%)
after each hidden layer keeps the network from learning the training images by heart: without
it, the same training reached a test accuracy of 0.977 here, rather than 0.98 and more.
"""),
("code", """
def build_model(output_activation="softmax"):
    return fg.Sequential([
        layers.Dense(512, activation="relu", input_shape=(784,)),
        layers.Dropout(0.2),
        layers.Dense(256, activation="relu"),
        layers.Dropout(0.2),
        layers.Dense(128, activation="relu"),
        layers.Dropout(0.2),
        layers.Dense(10, activation=output_activation),
    ])


model = build_model()
model.compile(
    optimizer=fg.optimizers.Adam(learning_rate=1e-3),
    loss="sparse_categorical_crossentropy",
    metrics=["accuracy"],
)
model.summary()
"""),
("md", """
## Training with `fit`

Ten epochs of batches of 128; the last 10% of the training set is held out for validation.
The training loop runs in Rust, without Python between the batches.
"""),
("code", """
started = time.perf_counter()
history = model.fit(x_train, y_train, batch_size=128, epochs=10, validation_split=0.1)
print(f"trained in {time.perf_counter() - started:.1f} s")

test_loss, test_accuracy = model.evaluate(x_test, y_test, verbose=0)
print(f"test loss {test_loss:.4f}, test accuracy {test_accuracy:.4f}")
results["fit_test_accuracy"] = test_accuracy
"""),
("md", """
## Learning curves

The training loss keeps falling; the validation loss flattens after a few epochs, as the
network gains little more that carries over to unseen digits. (The training figures are
measured with dropout on, the validation ones without.)
"""),
("code", """
epochs = np.arange(1, len(history.history["loss"]) + 1)
fig, (ax_loss, ax_accuracy) = plt.subplots(1, 2, figsize=(11, 4))
ax_loss.plot(epochs, history.history["loss"], "o-", label="training")
ax_loss.plot(epochs, history.history["val_loss"], "o-", label="validation")
ax_loss.set(title="Cross-entropy", xlabel="epoch", ylabel="loss")
ax_loss.legend()
ax_accuracy.plot(epochs, history.history["accuracy"], "o-", label="training")
ax_accuracy.plot(epochs, history.history["val_accuracy"], "o-", label="validation")
ax_accuracy.set(title="Accuracy", xlabel="epoch", ylabel="accuracy")
ax_accuracy.legend()
show(fig)
"""),
("md", """
## Predictions

`predict` gives the ten class probabilities of each image; the predicted digit is the most
probable one. Below: the first 16 test digits, then the first 16 the network gets wrong
(in red, with the true label). Many of those are hard to read for a person too.
"""),
("code", """
probabilities = model.predict(x_test, batch_size=1000, verbose=0)
predicted = probabilities.argmax(axis=1)
wrong = np.flatnonzero(predicted != y_test)
print(f"{len(wrong)} of {len(y_test)} test digits misclassified")

shown = np.concatenate([np.arange(16), wrong[:16]])
fig, axes = plt.subplots(4, 8, figsize=(11, 6.5))
for ax, index in zip(axes.ravel(), shown):
    ax.imshow(x_test_images[index], cmap="gray_r")
    correct = predicted[index] == y_test[index]
    ax.set_title(
        f"{predicted[index]}" if correct else f"{predicted[index]} (true {y_test[index]})",
        color="black" if correct else "red",
        fontsize=10,
    )
    ax.axis("off")
fig.suptitle("Predicted labels: first 16 test digits, then the first 16 mistakes")
show(fig)
"""),
("md", """
## Confusion matrix

Row: the true digit; column: the predicted one. Everything off the diagonal is a mistake.
"""),
("code", """
matrix = confusion_matrix(y_test, predicted)
fig, ax = plt.subplots(figsize=(7, 6))
ConfusionMatrixDisplay(matrix, display_labels=range(10)).plot(ax=ax, cmap="Blues", colorbar=False)
ax.set_title("Confusion matrix on the test set")
show(fig)

off_diagonal = matrix - np.diag(np.diag(matrix))
true_digit, predicted_digit = np.unravel_index(off_diagonal.argmax(), matrix.shape)
print(f"most frequent mistake: {true_digit} read as {predicted_digit} "
      f"({off_diagonal.max()} times)")
"""),
("md", """
## The same network, trained by hand

`fit` is a convenience. The low-level API is PyTorch's: calling the model on a batch records a
graph, `loss.backward()` fills each weight's `.grad`, and the optimizer applies the gradients.
Here the last layer outputs logits (no softmax) and the loss applies the softmax itself
(`from_logits=True`), which is numerically safer. Two epochs are enough to see it learn.
"""),
("code", """
fg.set_seed(0)
hand_model = build_model(output_activation=None)
loss_fn = fg.losses.SparseCategoricalCrossentropy(from_logits=True)
opt = fg.optimizers.Adam(learning_rate=1e-3)
weights = hand_model.trainable_weights
rng = np.random.default_rng(0)
batch_size = 128
batch_losses = []

started = time.perf_counter()
for epoch in range(2):
    order = rng.permutation(len(x_train))
    epoch_losses = []
    for start in range(0, len(x_train), batch_size):
        batch = order[start:start + batch_size]
        xb, yb = x_train[batch], y_train[batch]

        logits = hand_model(xb, training=True)
        loss = loss_fn(yb, logits)
        hand_model.zero_grad()
        loss.backward()
        grads = [w.grad for w in weights]
        opt.apply_gradients(zip(grads, weights))

        epoch_losses.append(loss.item())
    batch_losses += epoch_losses
    test_logits = hand_model.predict(x_test, batch_size=1000, verbose=0)
    hand_accuracy = float((test_logits.argmax(axis=1) == y_test).mean())
    print(f"epoch {epoch + 1}: mean training loss {np.mean(epoch_losses):.4f}, "
          f"test accuracy {hand_accuracy:.4f}")
print(f"trained in {time.perf_counter() - started:.1f} s")
results["hand_loop_test_accuracy"] = hand_accuracy

fig, ax = plt.subplots(figsize=(7, 4))
ax.plot(batch_losses, alpha=0.4, label="each batch")
window = 50
ax.plot(np.arange(window - 1, len(batch_losses)),
        np.convolve(batch_losses, np.ones(window) / window, mode="valid"), label=f"mean of {window}")
ax.set(title="Training loss of the hand-written loop", xlabel="batch", ylabel="loss", yscale="log")
ax.legend()
show(fig)
"""),
("md", """
## SGD with momentum or Adam?

The classic PyTorch MNIST example trains this kind of network with plain SGD (learning rate
0.001, momentum 0.9) on batches of 100, with the pixels normalised to [-1, 1]. We train it that
way and with Adam, from the same start, and measure the test accuracy after every epoch with a
small callback.
"""),
("code", """
x_train_centered = x_train * 2 - 1
x_test_centered = x_test * 2 - 1


class TestAccuracy(fg.callbacks.Callback):
    \"\"\"Records the accuracy on the test set at the end of every epoch.\"\"\"

    def __init__(self):
        super().__init__()
        self.accuracies = []

    def on_epoch_end(self, epoch, logs=None):
        _, accuracy = self.model.evaluate(x_test_centered, y_test, batch_size=1000, verbose=0)
        self.accuracies.append(accuracy)


candidates = {
    "SGD (0.001, momentum 0.9)": fg.optimizers.SGD(learning_rate=0.001, momentum=0.9),
    "Adam (0.001)": fg.optimizers.Adam(learning_rate=1e-3),
}
curves = {}
for name, optimizer in candidates.items():
    fg.set_seed(0)
    candidate = build_model()
    candidate.compile(optimizer=optimizer, loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    tracker = TestAccuracy()
    print(name)
    candidate.fit(x_train_centered, y_train, batch_size=100, epochs=10, verbose=2, callbacks=[tracker])
    curves[name] = tracker.accuracies

results["sgd_test_accuracy_per_epoch"] = curves["SGD (0.001, momentum 0.9)"]
results["adam_test_accuracy_per_epoch"] = curves["Adam (0.001)"]

fig, ax = plt.subplots(figsize=(7, 4))
for name, accuracies in curves.items():
    ax.plot(np.arange(1, len(accuracies) + 1), accuracies, "o-", label=name)
ax.set(title="Test accuracy after each epoch (batches of 100, pixels in [-1, 1])",
       xlabel="epoch", ylabel="test accuracy")
ax.legend()
show(fig)
"""),
("md", """
SGD with a small learning rate climbs steadily; Adam, which scales each weight's step by its
own gradient history, gets there in fewer epochs.

The figures this notebook reports (read by the tests):
"""),
("code", """
results["figures"] = figures_shown
print("RESULTS " + json.dumps(results))
"""),
]
build("mnist_mlp.ipynb", cells)

"""Writes and runs notebooks/mnist_convnet.ipynb: the keras.io "Simple MNIST convnet", then a
deeper Fashion-MNIST convnet with batch normalisation and augmentation layers."""

from common import build

# Epochs of the keras.io convnet (the example trains 15; 0.99 on the test set comes earlier),
# and the size of the Fashion-MNIST run, chosen to keep the notebook quick in the tests.
MNIST_EPOCHS = 12
FASHION_EPOCHS = 6
FASHION_ROWS = 20000

cells = [
("md", f"""
# Convolutional networks: MNIST and Fashion-MNIST

The keras.io example [Simple MNIST convnet](https://keras.io/examples/vision/mnist_convnet/),
with only the import changed: two convolutions with max-pooling, dropout and a softmax, trained
with Adam on batches of 128. It passes 0.99 test accuracy in a few epochs. Then a harder data
set, Fashion-MNIST (photos of clothes), with a deeper convnet that uses batch normalisation and
random flips and shifts of the training images (data augmentation, done by layers inside the
model, in the Rust training loop). We look at its learning curves, its predictions, its
confusion matrix, and at what the first layer's filters learned.

The data is read from `$FERROGRAD_DATA/mnist/` and `$FERROGRAD_DATA/fashion-mnist/` (the IDX
files), else from the cache, else downloaded.
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

As in the keras.io example: pixels scaled to [0, 1], a channel axis added (the images are
`(28, 28, 1)`, channels last), and the labels one-hot encoded for the categorical
cross-entropy.
"""),
("code", """
num_classes = 10
input_shape = (28, 28, 1)

(x_train, y_train), (x_test, y_test) = fg.datasets.mnist.load_data()
x_train = np.expand_dims(x_train.astype("float32") / 255, -1)
x_test = np.expand_dims(x_test.astype("float32") / 255, -1)
print("x_train shape:", x_train.shape)
print(x_train.shape[0], "train samples")
print(x_test.shape[0], "test samples")

y_train_labels, y_test_labels = y_train, y_test
y_train = fg.utils.to_categorical(y_train, num_classes)
y_test = fg.utils.to_categorical(y_test, num_classes)
"""),
("md", """
## The model

Exactly the example's: 3x3 convolutions of 32 and 64 filters, each followed by 2x2 max-pooling,
then dropout and a dense softmax layer. 34,826 parameters.
"""),
("code", """
model = fg.Sequential(
    [
        fg.Input(shape=input_shape),
        layers.Conv2D(32, kernel_size=(3, 3), activation="relu"),
        layers.MaxPooling2D(pool_size=(2, 2)),
        layers.Conv2D(64, kernel_size=(3, 3), activation="relu"),
        layers.MaxPooling2D(pool_size=(2, 2)),
        layers.Flatten(),
        layers.Dropout(0.5),
        layers.Dense(num_classes, activation="softmax"),
    ]
)
model.summary()
"""),
("md", f"""
## Training

Batches of 128, Adam, 10% of the training images held out for validation, as in the example.
The example trains 15 epochs; {MNIST_EPOCHS} already pass 0.99 on the test set.
"""),
("code", f"""
batch_size = 128
epochs = {MNIST_EPOCHS}

model.compile(loss="categorical_crossentropy", optimizer="adam", metrics=["accuracy"])
started = time.perf_counter()
history = model.fit(x_train, y_train, batch_size=batch_size, epochs=epochs, validation_split=0.1)
print(f"trained in {{time.perf_counter() - started:.1f}} s")

score = model.evaluate(x_test, y_test, verbose=0)
print("Test loss:", score[0])
print("Test accuracy:", score[1])
results["mnist_test_accuracy"] = score[1]
results["mnist_epochs"] = epochs
"""),
("md", f"""
## Fashion-MNIST

The same 28x28 grey images, of ten kinds of clothes: much harder to tell apart than digits
(a shirt from a T-shirt, a pullover from a coat). A deeper network helps, with three blocks of
convolution (16, 32 and 64 filters), batch normalisation, ReLU and max-pooling, and two ideas of the keras.io image examples:

- **Batch normalisation** after each convolution (before the ReLU, so the convolution needs no
  bias): each channel is normalised with the batch's statistics while training, and with their
  moving averages at inference.
- **Data augmentation**: `RandomFlip("horizontal")` mirrors half of the training images and
  `RandomTranslation` shifts them by up to 10% of their size, so the network never sees quite
  the same image twice. These layers are active only while training; at inference they pass
  images through unchanged. They run inside the model, in the Rust training loop, and draw
  their randomness from the generator that `fg.set_seed` seeds.

To keep this notebook quick we train on the first {FASHION_ROWS:,} training images for
{FASHION_EPOCHS} epochs and validate on 5,000 others.
"""),
("code", f"""
class_names = ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
               "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"]
(f_train, f_train_labels), (f_test, f_test_labels) = fg.datasets.fashion_mnist.load_data()
f_train = np.expand_dims(f_train.astype("float32") / 255, -1)
f_test = np.expand_dims(f_test.astype("float32") / 255, -1)
rows = {FASHION_ROWS}
f_x, f_y = f_train[:rows], f_train_labels[:rows]
f_val = (f_train[-5000:], f_train_labels[-5000:])

fig, axes = plt.subplots(2, 8, figsize=(11, 3.2))
augment = fg.Sequential([fg.Input(shape=input_shape), layers.RandomFlip("horizontal"),
                         layers.RandomTranslation(0.1, 0.1, fill_mode="constant")])
originals = f_x[:8]
augmented = augment(originals, training=True).numpy()
for column in range(8):
    axes[0, column].imshow(originals[column, :, :, 0], cmap="gray_r")
    axes[1, column].imshow(augmented[column, :, :, 0], cmap="gray_r")
    axes[0, column].set_title(class_names[f_y[column]], fontsize=8)
for ax in axes.ravel():
    ax.axis("off")
fig.suptitle("Training images (top) and one random augmentation of each (bottom)")
show(fig)
"""),
("code", f"""
def conv_block(filters):
    return [
        layers.Conv2D(filters, 3, padding="same", use_bias=False),
        layers.BatchNormalization(),
        layers.Activation("relu"),
        layers.MaxPooling2D(2),
    ]


fg.set_seed(0)
fashion = fg.Sequential(
    [
        fg.Input(shape=input_shape),
        layers.RandomFlip("horizontal"),
        layers.RandomTranslation(0.1, 0.1, fill_mode="constant"),
        *conv_block(16),
        *conv_block(32),
        *conv_block(64),
        layers.Flatten(),
        layers.Dropout(0.3),
        layers.Dense(num_classes, activation="softmax"),
    ]
)
fashion.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
fashion.summary()

started = time.perf_counter()
fashion_history = fashion.fit(
    f_x, f_y, batch_size=128, epochs={FASHION_EPOCHS}, validation_data=f_val
)
print(f"trained in {{time.perf_counter() - started:.1f}} s")
f_loss, f_accuracy = fashion.evaluate(f_test, f_test_labels, verbose=0)
print(f"test loss {{f_loss:.4f}}, test accuracy {{f_accuracy:.4f}}")
results["fashion_test_accuracy"] = f_accuracy
"""),
("md", """
## Learning curves

Training figures are measured on augmented images with dropout on, validation figures on
plain images without. The validation accuracy starts low: at inference batch normalisation
uses moving averages of the batch statistics, and with Keras's momentum of 0.99 they take a
few hundred steps to settle.
"""),
("code", """
epochs_run = np.arange(1, len(fashion_history.history["loss"]) + 1)
fig, (ax_loss, ax_accuracy) = plt.subplots(1, 2, figsize=(11, 4))
for key, label in [("loss", "training"), ("val_loss", "validation")]:
    ax_loss.plot(epochs_run, fashion_history.history[key], "o-", label=label)
for key, label in [("accuracy", "training"), ("val_accuracy", "validation")]:
    ax_accuracy.plot(epochs_run, fashion_history.history[key], "o-", label=label)
ax_loss.set(title="Cross-entropy", xlabel="epoch", ylabel="loss")
ax_accuracy.set(title="Accuracy", xlabel="epoch", ylabel="accuracy")
ax_loss.legend()
ax_accuracy.legend()
show(fig)
"""),
("md", """
## Predictions

The first 24 test images with the predicted class and its probability; mistakes in red, with
the true class.
"""),
("code", """
probabilities = fashion.predict(f_test, batch_size=500, verbose=0)
predicted = probabilities.argmax(axis=1)
fig, axes = plt.subplots(3, 8, figsize=(12, 5.5))
for index, ax in enumerate(axes.ravel()):
    ax.imshow(f_test[index, :, :, 0], cmap="gray_r")
    correct = predicted[index] == f_test_labels[index]
    title = f"{class_names[predicted[index]]} {probabilities[index].max():.0%}"
    if not correct:
        title += f"\\n(true {class_names[f_test_labels[index]]})"
    ax.set_title(title, color="black" if correct else "red", fontsize=8)
    ax.axis("off")
show(fig)
"""),
("md", """
## Confusion matrix

Rows: the true class; columns: the predicted one. The shirts, T-shirts, pullovers and coats
are confused with one another, as they are by people.
"""),
("code", """
matrix = confusion_matrix(f_test_labels, predicted)
fig, ax = plt.subplots(figsize=(8, 7))
ConfusionMatrixDisplay(matrix, display_labels=class_names).plot(
    ax=ax, cmap="Blues", colorbar=False, xticks_rotation=60
)
ax.set_title("Fashion-MNIST test set")
show(fig)
off_diagonal = matrix - np.diag(np.diag(matrix))
true_class, predicted_class = np.unravel_index(off_diagonal.argmax(), matrix.shape)
print(f"most frequent mistake: {class_names[true_class]} read as {class_names[predicted_class]} "
      f"({off_diagonal.max()} times)")
results["most_confused"] = [class_names[true_class], class_names[predicted_class]]
"""),
("md", """
## The first layer's filters

The 16 kernels of the first convolution, 3x3 each (blue negative, red positive): edge and
stroke detectors at various orientations. The kernel is stored in Keras's layout,
`(height, width, in_channels, filters)`.
"""),
("code", """
first_conv = next(layer for layer in fashion.layers if isinstance(layer, layers.Conv2D))
kernel = first_conv.get_weights()[0]
print("first convolution kernel:", kernel.shape)
limit = np.abs(kernel).max()
fig, axes = plt.subplots(2, 8, figsize=(9, 2.6))
for index, ax in enumerate(axes.ravel()):
    ax.imshow(kernel[:, :, 0, index], cmap="bwr", vmin=-limit, vmax=limit)
    ax.axis("off")
fig.suptitle("First-layer filters of the Fashion-MNIST convnet")
show(fig)
"""),
("md", """
The figures this notebook reports (read by the tests):
"""),
("code", """
results["figures"] = figures_shown
print("RESULTS " + json.dumps(results))
"""),

]
build("mnist_convnet.ipynb", cells)

from common import build
cells = [
("md", """
# Binary classification on synthetic data

The classic first Keras walkthrough, with ferrograd: a small dense network separates two
classes of scikit-learn's `make_classification`. We train it, look at its learning curves and
decision scores, and then try what a user tries next: L2 regularisation and dropout, early
stopping, and a comparison of optimizers.
"""),
("code", """
import json

import matplotlib.pyplot as plt
import numpy as np
from sklearn.datasets import make_classification
from sklearn.model_selection import train_test_split
from sklearn.preprocessing import StandardScaler

import ferrograd as fg
from ferrograd import layers

fg.set_seed(0)
results = {}
"""),
("md", """
## The data

1,000 samples with 20 features, two classes. We hold out 20% for testing and standardise the
features with the training set's mean and standard deviation.
"""),
("code", """
X, y = make_classification(n_samples=1000, n_features=20, n_classes=2, random_state=42)
X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.2, random_state=42)
scaler = StandardScaler()
X_train = scaler.fit_transform(X_train)
X_test = scaler.transform(X_test)
X_train.shape, X_test.shape, np.bincount(y_train)
"""),
("md", """
## The model

Two hidden layers of 64 ReLU units and one sigmoid output: the probability of class 1.
"""),
("code", """
def make_model(hidden_regularizer=None, dropout=0.0):
    return fg.Sequential([
        layers.Dense(64, activation="relu", input_shape=(20,), kernel_regularizer=hidden_regularizer),
        layers.Dropout(dropout),
        layers.Dense(64, activation="relu", kernel_regularizer=hidden_regularizer),
        layers.Dropout(dropout),
        layers.Dense(1, activation="sigmoid"),
    ])

model = fg.Sequential([
    layers.Dense(64, activation="relu", input_shape=(20,)),
    layers.Dense(64, activation="relu"),
    layers.Dense(1, activation="sigmoid"),
])
model.compile(optimizer="adam", loss="binary_crossentropy", metrics=["accuracy"])
model.summary()
"""),
("code", """
history = model.fit(X_train, y_train, epochs=10, batch_size=32, validation_split=0.1)
loss, accuracy = model.evaluate(X_test, y_test)
print(f"test loss {loss:.4f}, test accuracy {accuracy:.4f}")
results["test_accuracy"] = accuracy
"""),
("md", """
## Learning curves

The training loss keeps falling; the validation loss tells us how well that carries over to
unseen data.
"""),
("code", """
fig, (ax_loss, ax_acc) = plt.subplots(1, 2, figsize=(11, 4))
epochs = np.arange(1, len(history.history["loss"]) + 1)
ax_loss.plot(epochs, history.history["loss"], "o-", label="training")
ax_loss.plot(epochs, history.history["val_loss"], "o-", label="validation")
ax_loss.set(title="Binary cross-entropy", xlabel="epoch", ylabel="loss")
ax_loss.legend()
ax_acc.plot(epochs, history.history["accuracy"], "o-", label="training")
ax_acc.plot(epochs, history.history["val_accuracy"], "o-", label="validation")
ax_acc.set(title="Accuracy", xlabel="epoch", ylabel="accuracy")
ax_acc.legend()
plt.tight_layout()
plt.show()
"""),
("md", """
## Decision scores

The model's output is a probability. A good classifier pushes the scores of the two classes
apart, towards 0 and 1; the threshold 0.5 splits them.
"""),
("code", """
scores = model.predict(X_test, verbose=0)[:, 0]
fig, ax = plt.subplots(figsize=(7, 4))
bins = np.linspace(0, 1, 26)
ax.hist(scores[y_test == 0], bins=bins, alpha=0.6, label="true class 0")
ax.hist(scores[y_test == 1], bins=bins, alpha=0.6, label="true class 1")
ax.axvline(0.5, color="black", linestyle="--", label="threshold 0.5")
ax.set(title="Predicted probability of class 1 on the test set", xlabel="score", ylabel="samples")
ax.legend()
plt.show()
"""),
("md", """
## Regularisation: L2 and dropout

With a larger network and longer training, the training loss keeps falling while the
validation loss turns up: overfitting. An L2 penalty on the weights and dropout between the
layers keep it in check.
"""),
("code", """
def train(model, epochs=60, optimizer="adam", **fit_args):
    fg.set_seed(1)
    model.compile(optimizer=optimizer, loss="binary_crossentropy", metrics=["accuracy"])
    return model.fit(X_train, y_train, epochs=epochs, batch_size=32, validation_split=0.1, verbose=0, **fit_args)

fg.set_seed(1)
plain = train(make_model())
fg.set_seed(1)
regularized = train(make_model(fg.regularizers.l2(1e-3), dropout=0.3))

fig, ax = plt.subplots(figsize=(7, 4))
for name, h in [("no regularisation", plain), ("L2 1e-3 + dropout 0.3", regularized)]:
    line, = ax.plot(h.history["val_loss"], label=f"{name}: validation")
    ax.plot(h.history["loss"], "--", color=line.get_color(), label=f"{name}: training")
ax.set(title="Loss over 60 epochs", xlabel="epoch", ylabel="loss (with penalty)")
ax.legend()
plt.show()
results["val_loss_plain_final"] = plain.history["val_loss"][-1]
results["val_loss_regularized_final"] = regularized.history["val_loss"][-1]
"""),
("md", """
## Early stopping

Rather than guess the number of epochs, stop when the validation loss has not improved for a
few epochs and keep the best weights.
"""),
("code", """
fg.set_seed(1)
stopper = fg.callbacks.EarlyStopping(monitor="val_loss", patience=5, restore_best_weights=True)
early = train(make_model(), epochs=200, callbacks=[stopper])
stopped_model = stopper.model
print(f"stopped after {len(early.epoch)} epochs; best epoch {stopper.best_epoch + 1}, "
      f"best validation loss {stopper.best:.4f}")
print("test accuracy with the restored weights:", stopped_model.evaluate(X_test, y_test, verbose=0)[1])
results["early_stopping_epochs"] = len(early.epoch)
"""),
("md", """
## Comparing optimizers

The same network and data, trained with plain SGD, SGD with momentum, RMSprop and Adam
(their Keras defaults, but a learning rate of 0.01 for SGD).
"""),
("code", """
optimizers = {
    "SGD": fg.optimizers.SGD(learning_rate=0.01),
    "SGD + momentum 0.9": fg.optimizers.SGD(learning_rate=0.01, momentum=0.9),
    "RMSprop": fg.optimizers.RMSprop(),
    "Adam": fg.optimizers.Adam(),
}
fig, (ax_loss, ax_acc) = plt.subplots(1, 2, figsize=(11, 4))
for name, optimizer in optimizers.items():
    fg.set_seed(2)
    h = train(make_model(), epochs=30, optimizer=optimizer)
    ax_loss.plot(h.history["val_loss"], label=name)
    ax_acc.plot(h.history["val_accuracy"], label=name)
    results[f"val_accuracy_{name}"] = h.history["val_accuracy"][-1]
ax_loss.set(title="Validation loss", xlabel="epoch", ylabel="loss")
ax_acc.set(title="Validation accuracy", xlabel="epoch", ylabel="accuracy")
ax_loss.legend()
ax_acc.legend()
plt.tight_layout()
plt.show()
"""),
("md", "The figures this notebook reports (read by the tests):"),
("code", """
print("RESULTS " + json.dumps(results))
"""),
]
build("synthetic_classification.ipynb", cells)

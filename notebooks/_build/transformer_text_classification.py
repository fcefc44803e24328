"""Writes notebooks/transformer_text_classification.ipynb: the keras.io example "Text
classification with Transformer" (its TransformerBlock and TokenAndPositionEmbedding written as
subclassed layers, with only the import changed) on the generated reviews of
text_classification.ipynb, where word order decides the label."""

import re
from pathlib import Path

from common import build

# The review generator and the bag-of-words baseline are the text classification notebook's
# own cells, so that both notebooks train on the very same reviews.
_LSTM_SOURCE = (Path(__file__).parent / "text_classification.py").read_text()
_LSTM_CELLS = re.findall(r'\("(md|code)", """(.*?)"""\)', _LSTM_SOURCE, re.S)


def _lstm_cell(starts_with):
    for kind, text in _LSTM_CELLS:
        if text.strip().startswith(starts_with):
            return (kind, text.replace('\\"', '"'))
    raise ValueError(f"no cell of text_classification.py starts with {starts_with!r}")


cells = [
("md", """
# Text classification with a Transformer

This is the keras.io example [Text classification with
Transformer](https://keras.io/examples/nlp/text_classification_with_transformer/), with
`import keras` changed to `import ferrograd as keras`. Its two building blocks,
`TransformerBlock` and `TokenAndPositionEmbedding`, are layers written in Python (they subclass
`keras.layers.Layer`); ferrograd traces their `call()` once into the model's graph, so `fit`
runs them in Rust like the built-in layers.

Instead of IMDB (a download), it reads the generated film reviews of the text classification
notebook: sentiment words, negations (*not good*), intensifiers between a negation and its
word, and two clauses of opposite sentiment joined by *but* (the second decides) or *although*
(the first decides). Word counts cannot tell these apart; word order can.
"""),
("code", """
import json
import time
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
from sklearn.feature_extraction.text import CountVectorizer
from sklearn.linear_model import LogisticRegression

import ferrograd as keras
from ferrograd import layers, ops

keras.set_seed(0)
results = {}
figures_shown = 0


def show(fig):
    \"\"\"Shows a figure and counts it (the tests check that every figure was drawn).\"\"\"
    global figures_shown
    fig.tight_layout()
    plt.show()
    figures_shown += 1
"""),
("md", "## The reviews (the same as in the text classification notebook)"),
_lstm_cell("POSITIVE = ["),
("md", "## The bag-of-words baseline"),
_lstm_cell("def accuracy_by_kind("),
("md", """
## Token ids

The same vocabulary and padding as the LSTM notebook: each review becomes `maxlen` token ids,
padded at the front.
"""),
("code", """
vectorizer = keras.preprocessing.TextVectorization(max_tokens=10000)
vectorizer.adapt(texts_train)
vocab_size = vectorizer.vocabulary_size()
maxlen = max(len(text.split()) for text in texts_train)


def encode(texts):
    ids = vectorizer(texts)
    return keras.preprocessing.pad_sequences([row[row > 0] for row in ids], maxlen=maxlen)


x_train, x_val, x_test = encode(texts_train), encode(texts_val), encode(texts_test)
print(f"vocabulary of {vocab_size} tokens, reviews of {maxlen} tokens")
"""),
("md", """
## The keras.io model

The two layers below are the example's code as it stands on keras.io.
"""),
("code", """
class TransformerBlock(layers.Layer):
    def __init__(self, embed_dim, num_heads, ff_dim, rate=0.1):
        super().__init__()
        self.att = layers.MultiHeadAttention(num_heads=num_heads, key_dim=embed_dim)
        self.ffn = keras.Sequential(
            [layers.Dense(ff_dim, activation="relu"), layers.Dense(embed_dim),]
        )
        self.layernorm1 = layers.LayerNormalization(epsilon=1e-6)
        self.layernorm2 = layers.LayerNormalization(epsilon=1e-6)
        self.dropout1 = layers.Dropout(rate)
        self.dropout2 = layers.Dropout(rate)

    def call(self, inputs):
        attn_output = self.att(inputs, inputs)
        attn_output = self.dropout1(attn_output)
        out1 = self.layernorm1(inputs + attn_output)
        ffn_output = self.ffn(out1)
        ffn_output = self.dropout2(ffn_output)
        return self.layernorm2(out1 + ffn_output)


class TokenAndPositionEmbedding(layers.Layer):
    def __init__(self, maxlen, vocab_size, embed_dim):
        super().__init__()
        self.token_emb = layers.Embedding(input_dim=vocab_size, output_dim=embed_dim)
        self.pos_emb = layers.Embedding(input_dim=maxlen, output_dim=embed_dim)

    def call(self, x):
        maxlen = ops.shape(x)[-1]
        positions = ops.arange(start=0, stop=maxlen, step=1)
        positions = self.pos_emb(positions)
        x = self.token_emb(x)
        return x + positions
"""),
("code", """
embed_dim = 32  # Embedding size for each token
num_heads = 2  # Number of attention heads
ff_dim = 32  # Hidden layer size in feed forward network inside transformer

inputs = layers.Input(shape=(maxlen,))
embedding_layer = TokenAndPositionEmbedding(maxlen, vocab_size, embed_dim)
x = embedding_layer(inputs)
transformer_block = TransformerBlock(embed_dim, num_heads, ff_dim)
x = transformer_block(x)
x = layers.GlobalAveragePooling1D()(x)
x = layers.Dropout(0.1)(x)
x = layers.Dense(20, activation="relu")(x)
x = layers.Dropout(0.1)(x)
outputs = layers.Dense(2, activation="softmax")(x)

model = keras.Model(inputs=inputs, outputs=outputs)
model.summary()
"""),
("code", """
model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
started = time.perf_counter()
history = model.fit(
    x_train, y_train, batch_size=32, epochs=10, validation_data=(x_val, y_val), verbose=2
)
results["transformer_seconds"] = time.perf_counter() - started
print(f"trained in {results['transformer_seconds']:.1f} s")
"""),
("md", """
## The traced graph computes what the Python code computes

`predict` runs the traced graph in Rust; calling the two layers on a tensor runs their Python
`call()` op by op, as PyTorch would. They agree:
"""),
("code", """
features = keras.Model(inputs=inputs, outputs=transformer_block.output)
traced = features.predict(x_test[:64], verbose=0)
eager = transformer_block(embedding_layer(keras.tensor(x_test[:64]))).numpy()
results["traced_minus_eager"] = float(np.abs(traced - eager).max())
print(f"largest difference: {results['traced_minus_eager']:.2e}")
"""),
("md", "## Learning curves"),
("code", """
epochs = np.arange(1, len(history.history["loss"]) + 1)
fig, (ax_loss, ax_accuracy) = plt.subplots(1, 2, figsize=(11, 4))
ax_loss.plot(epochs, history.history["loss"], "o-", label="training")
ax_loss.plot(epochs, history.history["val_loss"], "o-", label="validation")
ax_loss.set(title="Cross-entropy", xlabel="epoch", ylabel="loss", yscale="log")
ax_loss.legend()
ax_accuracy.plot(epochs, history.history["accuracy"], "o-", label="training")
ax_accuracy.plot(epochs, history.history["val_accuracy"], "o-", label="validation")
ax_accuracy.set(title="Accuracy", xlabel="epoch", ylabel="accuracy")
ax_accuracy.legend()
show(fig)
"""),
("md", """
## Against bag of words and the LSTM

The LSTM's figures are those recorded in `text_classification.ipynb` (same reviews, same test
set), read from that notebook's outputs.
"""),
("code", """
_, transformer_accuracy = model.evaluate(x_test, y_test, verbose=0)
predicted = model.predict(x_test, verbose=0).argmax(axis=1).astype("float32")
results["transformer_test_accuracy"] = transformer_accuracy

lstm_notebook = json.loads(Path("text_classification.ipynb").read_text())
lstm_lines = [
    line
    for cell in lstm_notebook["cells"]
    for output in cell.get("outputs", [])
    for line in "".join(output.get("text", "")).splitlines()
    if line.startswith("RESULTS ") or line.startswith("trained in")
]
lstm_results = json.loads(next(l for l in lstm_lines if l.startswith("RESULTS "))[8:])
lstm_seconds = float(next(l for l in lstm_lines if l.startswith("trained in")).split()[2])
results["lstm_test_accuracy"] = lstm_results["lstm_test_accuracy"]

by_kind = {"Transformer": accuracy_by_kind(predicted, y_test, kinds_test)}
by_kind.update({name: accuracy_by_kind(p, y_test, kinds_test) for name, p in baselines.items()})
kinds = list(by_kind["Transformer"])
print(f"{'':<26}" + "".join(f"{kind:>20}" for kind in kinds) + f"{'all':>10}")
for name, accuracies in by_kind.items():
    overall = transformer_accuracy if name == "Transformer" else np.mean(baselines[name] == y_test)
    print(f"{name:<26}" + "".join(f"{accuracies[kind]:>20.3f}" for kind in kinds) + f"{overall:>10.3f}")
print(f"{'LSTM (recorded)':<26}" + " " * 20 * len(kinds) + f"{lstm_results['lstm_test_accuracy']:>10.3f}")
print(f"training time: Transformer {results['transformer_seconds']:.1f} s, "
      f"LSTM {lstm_seconds:.1f} s (as recorded)")

fig, ax = plt.subplots(figsize=(9, 4))
width = 0.8 / len(by_kind)
for offset, (name, accuracies) in enumerate(by_kind.items()):
    ax.bar(np.arange(len(kinds)) + offset * width, [accuracies[kind] for kind in kinds], width, label=name)
ax.axhline(0.5, color="black", linestyle="--", linewidth=1, label="chance")
ax.set_xticks(np.arange(len(kinds)) + width * (len(by_kind) - 1) / 2, kinds)
ax.set(title="Test accuracy by kind of review", ylabel="accuracy", ylim=(0, 1.05))
ax.legend(loc="lower left")
show(fig)
"""),
("md", "The figures this notebook reports (read by the tests):"),
("code", """
results["figures"] = figures_shown
print("RESULTS " + json.dumps(results))
"""),
]
build("transformer_text_classification.ipynb", cells)

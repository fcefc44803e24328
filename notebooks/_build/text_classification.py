from common import build

cells = [
("md", """
# Text classification with an LSTM

Is a film review positive or negative? A bag-of-words model (which words occur, in any order)
is the usual first answer, and on real reviews a strong one. But word order matters:
*"the plot was not good"* is negative although it contains *good*, and in *"the acting was
great but the ending was terrible"* the clause after *but* decides. A recurrent network reads
the words in order and can learn such rules.

To make that visible, this notebook generates its own reviews (no download) from a few rules:
sentiment words, negations (*not*, *never*), intensifiers (*very*, *truly*) that separate a
negation from its word, and two clauses of opposite sentiment joined by *but* (the second one
decides) or *although* (the first one decides). We train a two-layer LSTM on them and compare it
with a bag-of-words logistic regression.
"""),
("code", """
import json
import time

import matplotlib.pyplot as plt
import numpy as np
from sklearn.feature_extraction.text import CountVectorizer
from sklearn.linear_model import LogisticRegression

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
## The reviews

Each review is an optional neutral opening and either one clause (*aspect* *is/was*
[*not*|*never*] [*intensifier*] *adjective*) or two clauses of opposite sentiment joined by
*but* or *although*. A review is positive (label 1) or negative (label 0) by these rules alone,
so a model that learns them gets every review right.
"""),
("code", """
POSITIVE = ["good", "great", "excellent", "wonderful", "brilliant", "superb", "delightful",
            "charming", "enjoyable", "beautiful", "clever", "gripping"]
NEGATIVE = ["bad", "terrible", "awful", "boring", "dull", "weak", "poor", "horrible",
            "tedious", "clumsy", "bland", "disappointing"]
INTENSIFIERS = ["very", "really", "truly", "quite", "incredibly", "absolutely"]
ASPECTS = ["the acting", "the plot", "the story", "the music", "the ending", "the dialogue",
           "the cast", "the script", "the pacing", "the camera work", "the soundtrack", "the lead"]
OPENINGS = ["i watched this film last night", "we saw it at the cinema",
            "my friends recommended it", "it was on television yesterday",
            "i went in knowing nothing", "the trailer looked fine"]


def make_clause(rng, positive, negation_rate=0.3):
    \"\"\"A clause that says something positive (or negative), through a negation 30% of the time.\"\"\"
    negated = rng.random() < negation_rate
    # A negated clause praises with a negative word ("not bad") and criticises with a positive one.
    words = POSITIVE if positive != negated else NEGATIVE
    parts = [rng.choice(ASPECTS), rng.choice(["is", "was"])]
    if negated:
        parts.append(rng.choice(["not", "never"]))
    if rng.random() < 0.5:
        parts.append(rng.choice(INTENSIFIERS))
    parts.append(rng.choice(words))
    return " ".join(parts), negated


def make_review(rng):
    \"\"\"A review, its label (1 positive, 0 negative) and its kind.\"\"\"
    positive = bool(rng.integers(2))
    kind = rng.choice(["one clause", "but", "although"], p=[0.5, 0.25, 0.25])
    if kind == "one clause":
        body, negated = make_clause(rng, positive)
        kind = "one negated clause" if negated else "one clause"
    elif kind == "but":
        body = f"{make_clause(rng, not positive)[0]} but {make_clause(rng, positive)[0]}"
    else:
        body = f"{make_clause(rng, positive)[0]} although {make_clause(rng, not positive)[0]}"
    if rng.random() < 0.4:
        body = f"{rng.choice(OPENINGS)} {body}"
    return body, int(positive), kind


def make_reviews(count, seed):
    rng = np.random.default_rng(seed)
    texts, labels, kinds = zip(*(make_review(rng) for _ in range(count)))
    return list(texts), np.array(labels, dtype="float32"), np.array(kinds)


texts_train, y_train, kinds_train = make_reviews(4000, seed=1)
texts_val, y_val, kinds_val = make_reviews(500, seed=2)
texts_test, y_test, kinds_test = make_reviews(1200, seed=3)

# Short reviews repeat; the test set keeps only those the model has not seen in training.
seen = set(texts_train)
unseen = np.array([text not in seen for text in texts_test])
texts_test = [text for text, keep in zip(texts_test, unseen) if keep]
y_test, kinds_test = y_test[unseen], kinds_test[unseen]
print(f"{len(texts_train)} training, {len(texts_val)} validation, {len(texts_test)} test reviews "
      f"({(~unseen).sum()} test reviews dropped because they occur in the training set)")

for text, label, kind in list(zip(texts_train, y_train, kinds_train))[:8]:
    print(f"{'positive' if label else 'negative':>8}  {kind:<18}  {text}")
"""),
("md", """
## A bag-of-words baseline

scikit-learn's `CountVectorizer` counts the words of each review, and a logistic regression
weighs them. It learns which words are positive, but it cannot know which word a *not*
belongs to, nor which clause comes after *but*. Counting word pairs as well (bigrams) catches
*not good*, but not *not very good*, nor which clause decides.
"""),
("code", """
def accuracy_by_kind(predicted, labels, kinds):
    return {kind: float((predicted == labels)[kinds == kind].mean()) for kind in np.unique(kinds)}


baselines = {}
for name, ngram_range in [("bag of words", (1, 1)), ("bag of words and bigrams", (1, 2))]:
    vectorizer = CountVectorizer(ngram_range=ngram_range)
    classifier = LogisticRegression(max_iter=2000)
    classifier.fit(vectorizer.fit_transform(texts_train), y_train)
    predicted = classifier.predict(vectorizer.transform(texts_test))
    baselines[name] = predicted
    print(f"{name}: test accuracy {np.mean(predicted == y_test):.3f}")

results["bag_of_words_test_accuracy"] = float(np.mean(baselines["bag of words"] == y_test))
results["bigrams_test_accuracy"] = float(np.mean(baselines["bag of words and bigrams"] == y_test))
"""),
("md", """
## From text to token ids

`TextVectorization` learns a vocabulary from the training texts (id 0 is padding, id 1 an
unknown word) and turns each review into a sequence of ids. `pad_sequences` then brings all of
them to one length, padding at the front (its default), so that each review's last word is
the last step the LSTM reads before it answers.
"""),
("code", """
vectorizer = fg.preprocessing.TextVectorization(max_tokens=10000)
vectorizer.adapt(texts_train)
print(f"vocabulary: {vectorizer.vocabulary_size()} tokens, {vectorizer.get_vocabulary()[:12]} ...")

max_length = max(len(text.split()) for text in texts_train)


def encode(texts):
    ids = vectorizer(texts)  # padded at the end with 0 to the longest text
    return fg.preprocessing.pad_sequences([row[row > 0] for row in ids], maxlen=max_length)


x_train, x_val, x_test = encode(texts_train), encode(texts_val), encode(texts_test)
print(texts_train[0])
print(x_train[0], x_train.shape)
"""),
("md", """
## The LSTM

Embeddings of 128 values per token, two stacked LSTM layers of 128 units with dropout between
them, and a sigmoid output: the probability that the review is positive.
"""),
("code", """
model = fg.Sequential([
    layers.Embedding(10000, 128),
    layers.LSTM(128, return_sequences=True),
    layers.Dropout(0.5),
    layers.LSTM(128),
    layers.Dropout(0.5),
    layers.Dense(1, activation="sigmoid"),
])
model.compile(optimizer="adam", loss="binary_crossentropy", metrics=["accuracy"])
model.build((None, max_length))
model.summary()
"""),
("code", """
started = time.perf_counter()
history = model.fit(x_train, y_train, batch_size=64, epochs=10, validation_data=(x_val, y_val))
print(f"trained in {time.perf_counter() - started:.1f} s")
"""),
("md", """
## Learning curves

For the first epochs the network does little better than chance: it first has to find out which
words carry sentiment at all. Then it learns the negations and the two connectives, and the
validation loss drops quickly.
"""),
("code", """
epochs = np.arange(1, len(history.history["loss"]) + 1)
fig, (ax_loss, ax_accuracy) = plt.subplots(1, 2, figsize=(11, 4))
ax_loss.plot(epochs, history.history["loss"], "o-", label="training")
ax_loss.plot(epochs, history.history["val_loss"], "o-", label="validation")
ax_loss.set(title="Binary cross-entropy", xlabel="epoch", ylabel="loss", yscale="log")
ax_loss.legend()
ax_accuracy.plot(epochs, history.history["accuracy"], "o-", label="training")
ax_accuracy.plot(epochs, history.history["val_accuracy"], "o-", label="validation")
ax_accuracy.set(title="Accuracy", xlabel="epoch", ylabel="accuracy")
ax_accuracy.legend()
show(fig)
"""),
("md", """
## LSTM against bag of words, by kind of review

On plain one-clause reviews both do well. Bag of words fails on the negated ones (it learns
that *good* is positive, and *not* has no sentiment of its own) and guesses on the two-clause
ones, where a positive and a negative word always appear together.
"""),
("code", """
_, lstm_accuracy = model.evaluate(x_test, y_test, verbose=0)
lstm_predicted = (model.predict(x_test, verbose=0)[:, 0] > 0.5).astype("float32")
results["lstm_test_accuracy"] = lstm_accuracy

by_kind = {"LSTM": accuracy_by_kind(lstm_predicted, y_test, kinds_test)}
by_kind.update({name: accuracy_by_kind(predicted, y_test, kinds_test) for name, predicted in baselines.items()})
kinds = list(by_kind["LSTM"])
print(f"{'':<26}" + "".join(f"{kind:>20}" for kind in kinds) + f"{'all':>10}")
for name, accuracies in by_kind.items():
    overall = lstm_accuracy if name == "LSTM" else np.mean(baselines[name] == y_test)
    print(f"{name:<26}" + "".join(f"{accuracies[kind]:>20.3f}" for kind in kinds) + f"{overall:>10.3f}")

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
("md", """
## New reviews

The vocabulary and the rules are the ones above, but these sentences are written by hand.
"""),
("code", """
reviews = [
    "the acting was good",
    "the acting was not good",
    "the plot was never really boring",
    "the music was great but the ending was terrible",
    "the music was great although the ending was terrible",
    "the ending was terrible but the music was great",
]
scores = model.predict(encode(reviews), verbose=0)[:, 0]
for review, score in zip(reviews, scores):
    print(f"{score:.3f}  {'positive' if score > 0.5 else 'negative':>8}  {review}")
"""),
("md", "The figures this notebook reports (read by the tests):"),
("code", """
results["figures"] = figures_shown
print("RESULTS " + json.dumps(results))
"""),
]
build("text_classification.ipynb", cells)

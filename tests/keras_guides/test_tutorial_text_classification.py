"""TensorFlow's tutorial "Basic text classification" (tensorflow docs
site/en/tutorials/keras/text_classification.ipynb), written with only the import changed
(``import ferrograd as keras``, ``from ferrograd import layers, losses``) and generated movie
reviews in place of the IMDB download: sentences of plain words with a few words of praise or
of blame (and some of the other kind, as noise), HTML line breaks and punctuation, so that the
tutorial's standardization has something to strip.

The tutorial's ``custom_standardization`` is built on ``tf.strings``; here it is the same
function in plain Python. The model, its training and its evaluation run on the ids that
``ferrograd.preprocessing.TextVectorization`` gives; the export model, which puts
``layers.TextVectorization`` in a ``Sequential`` in front of the trained model, waits for that
layer. The tests assert what the tutorial shows: the vocabulary, the shapes of the vectorized
text, the parameter count, the History keys, and a test accuracy in a sensible range.
"""

import re
import string

import numpy as np
import pytest

import ferrograd as keras
from ferrograd import layers, losses

PRAISE = ["great", "wonderful", "brilliant", "moving", "superb", "delightful", "masterpiece"]
BLAME = ["awful", "boring", "terrible", "dull", "waste", "clumsy", "tedious"]
PLAIN = (
    "the movie film plot actors story was and a of to it is in that this director scene "
    "characters ending music camera script two hours watched saw with my friends cinema"
).split()


def generated_reviews(n, seed):
    """``n`` reviews and their labels (1 positive, 0 negative), half of each."""
    rng = np.random.default_rng(seed)
    texts, labels = [], []
    for i in range(n):
        label = i % 2
        own, other = (PRAISE, BLAME) if label else (BLAME, PRAISE)
        words = list(rng.choice(PLAIN, size=rng.integers(10, 40)))
        for _ in range(rng.integers(3, 8)):
            words.insert(rng.integers(len(words) + 1), str(rng.choice(own)))
        if rng.random() < 0.3:
            words.insert(rng.integers(len(words) + 1), str(rng.choice(other)))
        sentences = [
            " ".join(words[k : k + 12]).capitalize() + "." for k in range(0, len(words), 12)
        ]
        texts.append("<br /><br />".join(sentences) + ("!" if label else ""))
        labels.append(label)
    order = rng.permutation(n)
    return [texts[k] for k in order], np.array(labels, dtype="float32")[order]


def custom_standardization(input_data):
    lowercase = input_data.lower()
    stripped_html = lowercase.replace("<br />", " ")
    return re.sub(f"[{re.escape(string.punctuation)}]", "", stripped_html)


max_features = 10000
sequence_length = 250
embedding_dim = 16


@pytest.fixture(scope="module")
def datasets():
    train_text, train_labels = generated_reviews(2000, seed=1)
    test_text, test_labels = generated_reviews(1000, seed=2)
    # validation_split=0.2 of the training directory
    return (
        (train_text[:1600], train_labels[:1600]),
        (train_text[1600:], train_labels[1600:]),
        (test_text, test_labels),
    )


def make_vectorize_layer(factory, train_text):
    vectorize_layer = factory(
        standardize=custom_standardization,
        max_tokens=max_features,
        output_mode="int",
        output_sequence_length=sequence_length,
    )
    # Make a text-only dataset (without labels), then call adapt
    vectorize_layer.adapt(train_text)
    return vectorize_layer


def make_model():
    return keras.Sequential(
        [
            layers.Embedding(max_features, embedding_dim),
            layers.Dropout(0.2),
            layers.GlobalAveragePooling1D(),
            layers.Dropout(0.2),
            layers.Dense(1, activation="sigmoid"),
        ]
    )


def test_basic_text_classification(datasets):
    (train_text, train_labels), (val_text, val_labels), (test_text, test_labels) = datasets
    assert "<br />" in train_text[0]

    vectorize_layer = make_vectorize_layer(keras.preprocessing.TextVectorization, train_text)
    vocabulary = vectorize_layer.get_vocabulary()
    assert vocabulary[:2] == ["", "[UNK]"]
    assert set(vocabulary[2:]) == set(PRAISE + BLAME + PLAIN)
    assert "br" not in vocabulary and "great" in vocabulary
    assert vocabulary[vectorize_layer(["great"])[0][0]] == "great"

    x_train = vectorize_layer(train_text)
    x_val = vectorize_layer(val_text)
    x_test = vectorize_layer(test_text)
    assert x_train.shape == (1600, sequence_length)
    first = vectorize_layer([train_text[0]])[0]
    words = custom_standardization(train_text[0]).split()
    assert [vocabulary[i] for i in first[: len(words)]] == words
    assert (first[len(words) :] == 0).all()

    model = make_model()
    model.build((None, sequence_length))
    lines = []
    model.summary(print_fn=lines.append)
    assert "Total params: 160,017" in "\n".join(lines)

    model.compile(
        loss=losses.BinaryCrossentropy(),
        optimizer="adam",
        metrics=[keras.metrics.BinaryAccuracy(threshold=0.5)],
    )
    epochs = 10
    history = model.fit(
        x_train, train_labels, validation_data=(x_val, val_labels), epochs=epochs, verbose=0
    )
    history_dict = history.history
    assert sorted(history_dict) == ["binary_accuracy", "loss", "val_binary_accuracy", "val_loss"]
    assert len(history_dict["loss"]) == epochs
    assert history_dict["loss"][-1] < history_dict["loss"][0]

    loss, accuracy = model.evaluate(x_test, test_labels, verbose=0)
    assert 0.85 < accuracy <= 1.0
    # Below the loss of a coin toss (ln 2); the averaged embedding sharpens slowly on 1,600
    # reviews and 10 epochs (the tutorial's 20,000 reach about 0.3).
    assert 0.0 < loss < np.log(2)

    examples = ["The movie was great!", "The movie was okay.", "The movie was terrible..."]
    scores = model.predict(vectorize_layer(examples), verbose=0)
    assert scores.shape == (3, 1)
    # Praise scores above blame (the tutorial's own examples score 0.6, 0.45 and 0.35).
    assert scores[0, 0] > scores[2, 0]


def test_export_the_model_with_its_text_vectorization(datasets):
    (train_text, train_labels), _, (test_text, test_labels) = datasets
    vectorize_layer = make_vectorize_layer(layers.TextVectorization, train_text)
    model = make_model()
    model.compile(loss=losses.BinaryCrossentropy(), optimizer="adam", metrics=["accuracy"])
    model.fit(vectorize_layer(train_text), train_labels, epochs=5, verbose=0)

    export_model = keras.Sequential([vectorize_layer, model])
    export_model.compile(
        loss=losses.BinaryCrossentropy(from_logits=False), optimizer="adam", metrics=["accuracy"]
    )
    # Test it with the raw strings
    loss, accuracy = export_model.evaluate(np.array(test_text), test_labels, verbose=0)
    assert 0.85 < accuracy <= 1.0
    examples = np.array(
        ["The movie was great!", "The movie was okay.", "The movie was terrible..."]
    )
    scores = export_model.predict(examples, verbose=0)
    assert scores[0, 0] > scores[2, 0]

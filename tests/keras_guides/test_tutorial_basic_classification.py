"""TensorFlow's tutorial "Basic classification: Classify images of clothing" (tensorflow docs
site/en/tutorials/keras/classification.ipynb), written with only the import changed
(``import ferrograd as keras`` in place of ``tf.keras``), Fashion-MNIST read by the library's
own loader, and 10,000 training images for 3 epochs in place of 60,000 for 10.

It asserts what the tutorial shows: the shapes of the data, the model's parameter count, the
test accuracy (the tutorial reaches about 0.88 on the full data; 0.8 here), and probabilities
that sum to one and agree with the model's logits.
"""

import numpy as np

import ferrograd as keras

class_names = [
    "T-shirt/top",
    "Trouser",
    "Pullover",
    "Dress",
    "Coat",
    "Sandal",
    "Shirt",
    "Sneaker",
    "Bag",
    "Ankle boot",
]


def test_classify_images_of_clothing():
    fashion_mnist = keras.datasets.fashion_mnist
    (train_images, train_labels), (test_images, test_labels) = fashion_mnist.load_data()

    # Explore the data
    assert train_images.shape == (60000, 28, 28)
    assert len(train_labels) == 60000
    assert set(np.unique(train_labels)) == set(range(10))
    assert test_images.shape == (10000, 28, 28)
    assert len(test_labels) == 10000

    # Preprocess the data (a subset, to run in seconds)
    train_images, train_labels = train_images[:10000], train_labels[:10000]
    test_images, test_labels = test_images[:2000], test_labels[:2000]
    train_images = train_images / 255.0
    test_images = test_images / 255.0
    assert train_images.min() == 0.0 and train_images.max() == 1.0

    # Build the model
    model = keras.Sequential(
        [
            keras.layers.Flatten(input_shape=(28, 28)),
            keras.layers.Dense(128, activation="relu"),
            keras.layers.Dense(10),
        ]
    )
    model.compile(
        optimizer="adam",
        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
        metrics=["accuracy"],
    )
    assert model.count_params() == 101_770  # 784*128+128 + 128*10+10

    # Train the model
    history = model.fit(train_images, train_labels, epochs=3, verbose=0)
    assert set(history.history) == {"loss", "accuracy"}
    assert history.history["accuracy"][-1] > history.history["accuracy"][0]

    # Evaluate accuracy
    test_loss, test_acc = model.evaluate(test_images, test_labels, verbose=2)
    assert 0.8 < test_acc <= 1.0
    assert 0.2 < test_loss < 0.6

    # Make predictions
    probability_model = keras.Sequential([model, keras.layers.Softmax()])
    predictions = probability_model.predict(test_images, verbose=0)
    assert predictions.shape == (2000, 10)
    np.testing.assert_allclose(predictions.sum(axis=1), 1.0, rtol=1e-5)
    logits = model.predict(test_images, verbose=0)
    np.testing.assert_array_equal(np.argmax(predictions, axis=1), np.argmax(logits, axis=1))
    assert np.mean(np.argmax(predictions, axis=1) == test_labels) == test_acc
    assert class_names[np.argmax(predictions[0])] in class_names

    # Use the trained model: one image, as a batch of one
    img = test_images[1]
    assert img.shape == (28, 28)
    img = np.expand_dims(img, 0)
    assert img.shape == (1, 28, 28)
    predictions_single = probability_model.predict(img, verbose=0)
    assert predictions_single.shape == (1, 10)
    np.testing.assert_allclose(predictions_single[0], predictions[1], rtol=1e-5, atol=1e-7)

"""The same models and training loops written for each library that compare.py measures.

Every library starts from the same initial weights (ferrograd's, made from one seed) so that
their test accuracies can be compared as well as their times. Each ``*_fit`` function times
only the training itself: building the model and loading the weights happen before the clock
starts. The PyTorch and JAX loops are the plain ones their users write; Keras and ferrograd
use ``fit``.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class MlpSpec:
    """A stack of ReLU Dense layers; the last one is a softmax over classes, or a sigmoid."""

    sizes: tuple[int, ...]
    output: str  # "softmax" (sparse categorical cross-entropy) or "sigmoid" (binary)

    @property
    def loss(self) -> str:
        if self.output == "softmax":
            return "sparse_categorical_crossentropy"
        return "binary_crossentropy"


@dataclass(frozen=True)
class TextSpec:
    """Embedding - LSTM (sequences) - Dropout - LSTM - Dropout - Dense(1, sigmoid)."""

    vocabulary: int = 10_000
    embedding: int = 128
    units: int = 128
    dropout: float = 0.5


def split_validation(x, y, fraction):
    """The last ``fraction`` of the rows, held out before shuffling, as Keras does."""
    if not fraction:
        return x, y, None
    held_out = int(len(x) * fraction)
    cut = len(x) - held_out
    return x[:cut], y[:cut], (x[cut:], y[cut:])


# --- ferrograd ---------------------------------------------------------------------------


def ferrograd_mlp(spec: MlpSpec, seed: int = 0):
    # Imported here, as each peer is, so that a PyTorch worker process never loads ferrograd.
    import ferrograd as fg
    from ferrograd import layers

    fg.set_seed(seed)
    hidden = [
        layers.Dense(
            units, activation="relu", **({"input_shape": (spec.sizes[0],)} if i == 0 else {})
        )
        for i, units in enumerate(spec.sizes[1:-1])
    ]
    model = fg.Sequential([*hidden, layers.Dense(spec.sizes[-1], activation=spec.output)])
    model.compile(optimizer=fg.optimizers.Adam(1e-3), loss=spec.loss)
    return model


def initial_mlp_weights(spec: MlpSpec, seed: int = 0) -> list[np.ndarray]:
    """Kernels as (in, out) and biases, in layer order, as ``get_weights`` returns them."""
    return ferrograd_mlp(spec, seed).get_weights()


def ferrograd_mlp_fit(spec, weights, x, y, *, batch_size, epochs, validation_split=0.0):
    model = ferrograd_mlp(spec)
    model.set_weights(weights)
    start = time.perf_counter()
    model.fit(
        x,
        y,
        batch_size=batch_size,
        epochs=epochs,
        validation_split=validation_split,
        verbose=0,
    )
    return time.perf_counter() - start, model


def ferrograd_subclassed_mlp(spec: MlpSpec, seed: int = 0, run_eagerly: bool = False):
    """The MLP of ``ferrograd_mlp`` written as a subclassed Model (Dense sublayers as
    attributes, ``call()``), traced for ``fit`` or, with ``run_eagerly``, run in Python."""
    import ferrograd as fg
    from ferrograd import layers

    class SubclassedMLP(fg.Model):
        def __init__(self):
            super().__init__()
            self.hidden = [layers.Dense(units, activation="relu") for units in spec.sizes[1:-1]]
            self.out = layers.Dense(spec.sizes[-1], activation=spec.output)

        def call(self, x):
            for layer in self.hidden:
                x = layer(x)
            return self.out(x)

    fg.set_seed(seed)
    model = SubclassedMLP()
    model.build((None, spec.sizes[0]))
    model.compile(optimizer=fg.optimizers.Adam(1e-3), loss=spec.loss, run_eagerly=run_eagerly)
    return model


def ferrograd_subclassed_mlp_fit(spec, weights, x, y, *, batch_size, epochs, run_eagerly=False):
    model = ferrograd_subclassed_mlp(spec, run_eagerly=run_eagerly)
    model.set_weights(weights)
    start = time.perf_counter()
    model.fit(x, y, batch_size=batch_size, epochs=epochs, verbose=0)
    return time.perf_counter() - start, model


def ferrograd_predict(model, x, *, batch_size):
    start = time.perf_counter()
    outputs = model.predict(x, batch_size=batch_size, verbose=0)
    return time.perf_counter() - start, outputs


def ferrograd_text(spec: TextSpec, length: int, seed: int = 0):
    import ferrograd as fg
    from ferrograd import layers

    fg.set_seed(seed)
    model = fg.Sequential(
        [
            layers.Embedding(spec.vocabulary, spec.embedding, input_shape=(length,)),
            layers.LSTM(spec.units, return_sequences=True),
            layers.Dropout(spec.dropout),
            layers.LSTM(spec.units),
            layers.Dropout(spec.dropout),
            layers.Dense(1, activation="sigmoid"),
        ]
    )
    model.compile(optimizer=fg.optimizers.Adam(1e-3), loss="binary_crossentropy")
    return model


def ferrograd_text_fit(spec, x, y, *, batch_size):
    model = ferrograd_text(spec, x.shape[1])
    start = time.perf_counter()
    model.fit(x, y, batch_size=batch_size, epochs=1, verbose=0)
    return time.perf_counter() - start


# --- PyTorch -----------------------------------------------------------------------------


def torch_mlp(spec: MlpSpec, weights):
    import torch

    modules = []
    for i, (fan_in, fan_out) in enumerate(zip(spec.sizes[:-1], spec.sizes[1:], strict=True)):
        linear = torch.nn.Linear(fan_in, fan_out)
        with torch.no_grad():
            linear.weight.copy_(torch.from_numpy(weights[2 * i].T.copy()))
            linear.bias.copy_(torch.from_numpy(weights[2 * i + 1]))
        modules.append(linear)
        if i < len(spec.sizes) - 2:
            modules.append(torch.nn.ReLU())
    return torch.nn.Sequential(*modules)


def _torch_loss(spec: MlpSpec):
    """The loss on logits: PyTorch users fold the softmax or sigmoid into it."""
    import torch

    if spec.output == "softmax":
        return torch.nn.CrossEntropyLoss()
    return torch.nn.BCEWithLogitsLoss()


def _torch_targets(spec: MlpSpec, y):
    import torch

    if spec.output == "softmax":
        return torch.from_numpy(y.astype(np.int64))
    return torch.from_numpy(y.astype(np.float32).reshape(-1, 1))


def _torch_train(net, loss_fn, optimizer, x, y, *, batch_size, epochs, validation):
    """The loop of PyTorch tutorials: shuffle indices, slice batches, step; a validation pass
    per epoch. The running loss is read each step, as ferrograd's fit reports it."""
    import torch

    for _ in range(epochs):
        net.train()
        order = torch.randperm(len(x))
        running_loss = 0.0
        for start in range(0, len(x), batch_size):
            batch = order[start : start + batch_size]
            optimizer.zero_grad()
            loss = loss_fn(net(x[batch]), y[batch])
            loss.backward()
            optimizer.step()
            running_loss += loss.item()
        if validation is not None:
            x_val, y_val = validation
            net.eval()
            validation_loss = 0.0
            with torch.no_grad():
                for start in range(0, len(x_val), batch_size):
                    end = start + batch_size
                    validation_loss += loss_fn(net(x_val[start:end]), y_val[start:end]).item()


def torch_mlp_fit(spec, weights, x, y, *, batch_size, epochs, validation_split=0.0):
    import torch

    torch.manual_seed(0)
    net = torch_mlp(spec, weights)
    loss_fn = _torch_loss(spec)
    # Keras's (and ferrograd's) Adam epsilon, in place of PyTorch's 1e-8.
    optimizer = torch.optim.Adam(net.parameters(), lr=1e-3, eps=1e-7)
    x_train, y_train, validation = split_validation(x, y, validation_split)
    x_train, y_train = torch.from_numpy(x_train), _torch_targets(spec, y_train)
    if validation is not None:
        validation = (torch.from_numpy(validation[0]), _torch_targets(spec, validation[1]))
    start = time.perf_counter()
    _torch_train(
        net, loss_fn, optimizer, x_train, y_train, batch_size=batch_size, epochs=epochs,
        validation=validation,
    )  # fmt: skip
    return time.perf_counter() - start, net


def torch_predict(net, spec: MlpSpec, x, *, batch_size):
    import torch

    activation = torch.softmax if spec.output == "softmax" else None
    inputs = torch.from_numpy(x)
    start = time.perf_counter()
    net.eval()
    with torch.inference_mode():
        batches = []
        for first in range(0, len(inputs), batch_size):
            logits = net(inputs[first : first + batch_size])
            batches.append(activation(logits, 1) if activation else torch.sigmoid(logits))
        outputs = torch.cat(batches).numpy()
    return time.perf_counter() - start, outputs


class TorchTextClassifier:
    """Built lazily so that importing this module does not import torch."""

    @staticmethod
    def build(spec: TextSpec):
        import torch

        class Classifier(torch.nn.Module):
            def __init__(self):
                super().__init__()
                self.embedding = torch.nn.Embedding(spec.vocabulary, spec.embedding)
                self.lstm1 = torch.nn.LSTM(spec.embedding, spec.units, batch_first=True)
                self.lstm2 = torch.nn.LSTM(spec.units, spec.units, batch_first=True)
                self.dropout = torch.nn.Dropout(spec.dropout)
                self.dense = torch.nn.Linear(spec.units, 1)

            def forward(self, tokens):
                sequence, _ = self.lstm1(self.embedding(tokens))
                _, (last_hidden, _) = self.lstm2(self.dropout(sequence))
                return self.dense(self.dropout(last_hidden[-1]))

        return Classifier()


def torch_text_fit(spec, x, y, *, batch_size):
    import torch

    torch.manual_seed(0)
    net = TorchTextClassifier.build(spec)
    optimizer = torch.optim.Adam(net.parameters(), lr=1e-3, eps=1e-7)
    tokens = torch.from_numpy(x.astype(np.int64))
    labels = torch.from_numpy(y.astype(np.float32).reshape(-1, 1))
    start = time.perf_counter()
    _torch_train(
        net, torch.nn.BCEWithLogitsLoss(), optimizer, tokens, labels, batch_size=batch_size,
        epochs=1, validation=None,
    )  # fmt: skip
    return time.perf_counter() - start


# --- JAX (a jitted train step, Adam written out as Keras defines it) ----------------------

_JAX_STEPS: dict[MlpSpec, tuple] = {}


def _jax_functions(spec: MlpSpec):
    """(train step, loss, forward), jitted once per model shape and reused across runs."""
    if spec in _JAX_STEPS:
        return _JAX_STEPS[spec]
    import jax
    import jax.numpy as jnp

    def forward(params, x):
        for kernel, bias in params[:-1]:
            x = jax.nn.relu(x @ kernel + bias)
        kernel, bias = params[-1]
        return x @ kernel + bias

    def loss(params, x, y):
        logits = forward(params, x)
        if spec.output == "softmax":
            log_probabilities = jax.nn.log_softmax(logits)
            return -jnp.mean(jnp.take_along_axis(log_probabilities, y[:, None], axis=1))
        return jnp.mean(
            jnp.maximum(logits, 0) - logits * y[:, None] + jnp.log1p(jnp.exp(-jnp.abs(logits)))
        )

    beta_1, beta_2, epsilon, learning_rate = 0.9, 0.999, 1e-7, 1e-3

    def step(params, first_moments, second_moments, count, x, y):
        value, grads = jax.value_and_grad(loss)(params, x, y)
        count = count + 1
        first_moments = jax.tree.map(
            lambda m, g: beta_1 * m + (1 - beta_1) * g, first_moments, grads
        )
        second_moments = jax.tree.map(
            lambda v, g: beta_2 * v + (1 - beta_2) * g * g, second_moments, grads
        )
        corrected_rate = learning_rate * jnp.sqrt(1 - beta_2**count) / (1 - beta_1**count)
        params = jax.tree.map(
            lambda p, m, v: p - corrected_rate * m / (jnp.sqrt(v) + epsilon),
            params,
            first_moments,
            second_moments,
        )
        return params, first_moments, second_moments, count, value

    functions = (
        jax.jit(step, donate_argnums=(0, 1, 2)),
        jax.jit(loss),
        jax.jit(forward),
    )
    _JAX_STEPS[spec] = functions
    return functions


def _jax_params(weights):
    import jax.numpy as jnp

    return [
        (jnp.asarray(weights[i]), jnp.asarray(weights[i + 1])) for i in range(0, len(weights), 2)
    ]


def jax_mlp_fit(spec, weights, x, y, *, batch_size, epochs, validation_split=0.0):
    import jax
    import jax.numpy as jnp

    step, loss, _ = _jax_functions(spec)
    params = _jax_params(weights)
    first_moments = jax.tree.map(jnp.zeros_like, params)
    second_moments = jax.tree.map(jnp.zeros_like, params)
    count = jnp.zeros((), jnp.float32)
    y = y.astype(np.int32) if spec.output == "softmax" else y.astype(np.float32)
    x_train, y_train, validation = split_validation(x, y, validation_split)
    rng = np.random.default_rng(0)
    start = time.perf_counter()
    for _ in range(epochs):
        order = rng.permutation(len(x_train))
        running_loss = 0.0
        for first in range(0, len(x_train), batch_size):
            batch = order[first : first + batch_size]
            params, first_moments, second_moments, count, value = step(
                params, first_moments, second_moments, count, x_train[batch], y_train[batch]
            )
            running_loss = running_loss + value
        if validation is not None:
            x_val, y_val = validation
            validation_loss = 0.0
            for first in range(0, len(x_val), batch_size):
                end = first + batch_size
                validation_loss = validation_loss + loss(params, x_val[first:end], y_val[first:end])
            float(validation_loss)
        float(running_loss)  # waits for the asynchronous dispatch to finish
    jax.block_until_ready(params)
    return time.perf_counter() - start, params


def jax_predict(params, spec: MlpSpec, x, *, batch_size):
    import jax

    _, _, forward = _jax_functions(spec)
    activation = jax.nn.softmax if spec.output == "softmax" else jax.nn.sigmoid
    start = time.perf_counter()
    batches = [
        np.asarray(activation(forward(params, x[first : first + batch_size])))
        for first in range(0, len(x), batch_size)
    ]
    outputs = np.concatenate(batches)
    return time.perf_counter() - start, outputs


# --- Keras 3 (JAX backend) ---------------------------------------------------------------

_KERAS_MODELS: dict[object, tuple] = {}


def _keras_model(key, build):
    """One compiled model per shape, reset to its first state before each run: a new model
    would trace and compile its train function again inside the timed fit."""
    if key not in _KERAS_MODELS:
        model = build()
        model.optimizer.build(model.trainable_variables)
        state = (
            [w.copy() for w in model.get_weights()],
            [np.array(v) for v in model.optimizer.variables],
        )
        _KERAS_MODELS[key] = (model, state)
    model, (weights, optimizer_state) = _KERAS_MODELS[key]
    model.set_weights(weights)
    for variable, value in zip(model.optimizer.variables, optimizer_state, strict=True):
        variable.assign(value)
    return model


def keras_mlp(spec, weights):
    import keras

    def build():
        model = keras.Sequential(
            [keras.Input((spec.sizes[0],))]
            + [keras.layers.Dense(units, activation="relu") for units in spec.sizes[1:-1]]
            + [keras.layers.Dense(spec.sizes[-1], activation=spec.output)]
        )
        model.compile(optimizer=keras.optimizers.Adam(1e-3), loss=spec.loss)
        return model

    model = _keras_model(spec, build)
    model.set_weights(weights)
    return model


def keras_mlp_fit(spec, weights, x, y, *, batch_size, epochs, validation_split=0.0):
    model = keras_mlp(spec, weights)
    start = time.perf_counter()
    model.fit(
        x, y, batch_size=batch_size, epochs=epochs, validation_split=validation_split, verbose=0
    )
    return time.perf_counter() - start, model


def keras_predict(model, x, *, batch_size):
    start = time.perf_counter()
    outputs = model.predict(x, batch_size=batch_size, verbose=0)
    return time.perf_counter() - start, outputs


def keras_text_fit(spec, x, y, *, batch_size):
    import keras

    def build():
        model = keras.Sequential(
            [
                keras.Input((x.shape[1],), dtype="int32"),
                keras.layers.Embedding(spec.vocabulary, spec.embedding),
                keras.layers.LSTM(spec.units, return_sequences=True),
                keras.layers.Dropout(spec.dropout),
                keras.layers.LSTM(spec.units),
                keras.layers.Dropout(spec.dropout),
                keras.layers.Dense(1, activation="sigmoid"),
            ]
        )
        model.compile(optimizer=keras.optimizers.Adam(1e-3), loss="binary_crossentropy")
        return model

    model = _keras_model((spec, x.shape[1]), build)
    start = time.perf_counter()
    model.fit(x, y, batch_size=batch_size, epochs=1, verbose=0)
    return time.perf_counter() - start


# --- The keras.io "Simple MNIST convnet" (cases 9 and 10) -------------------------------
#
# Input(28, 28, 1) - Conv2D(32, 3, relu) - MaxPooling2D(2) - Conv2D(64, 3, relu) -
# MaxPooling2D(2) - Flatten - Dropout(0.5) - Dense(10, softmax); Adam, categorical
# cross-entropy on one-hot labels, as the example trains it. Every library starts from
# ferrograd's initial weights (kernels in Keras's (kh, kw, in, out) layout, PyTorch's is
# (out, in, kh, kw); PyTorch flattens (C, H, W) where Keras flattens (H, W, C), so the Dense
# kernel's rows are reordered for it).

CONVNET_INPUT = (28, 28, 1)
CONVNET_CLASSES = 10


def ferrograd_convnet(seed: int = 0):
    import ferrograd as fg
    from ferrograd import layers

    fg.set_seed(seed)
    model = fg.Sequential(
        [
            fg.Input(shape=CONVNET_INPUT),
            layers.Conv2D(32, kernel_size=(3, 3), activation="relu"),
            layers.MaxPooling2D(pool_size=(2, 2)),
            layers.Conv2D(64, kernel_size=(3, 3), activation="relu"),
            layers.MaxPooling2D(pool_size=(2, 2)),
            layers.Flatten(),
            layers.Dropout(0.5),
            layers.Dense(CONVNET_CLASSES, activation="softmax"),
        ]
    )
    model.compile(optimizer="adam", loss="categorical_crossentropy", metrics=["accuracy"])
    return model


def initial_convnet_weights(seed: int = 0) -> list[np.ndarray]:
    return ferrograd_convnet(seed).get_weights()


def one_hot(labels, classes=CONVNET_CLASSES):
    return np.eye(classes, dtype=np.float32)[labels]


def ferrograd_convnet_fit(weights, x, y, *, batch_size):
    """One epoch; ``x`` is (N, 28, 28, 1) float32, ``y`` one-hot."""
    model = ferrograd_convnet()
    model.set_weights(weights)
    start = time.perf_counter()
    model.fit(x, y, batch_size=batch_size, epochs=1, verbose=0)
    return time.perf_counter() - start, model


def torch_convnet(weights):
    import torch

    net = torch.nn.Sequential(
        torch.nn.Conv2d(1, 32, 3),
        torch.nn.ReLU(),
        torch.nn.MaxPool2d(2),
        torch.nn.Conv2d(32, 64, 3),
        torch.nn.ReLU(),
        torch.nn.MaxPool2d(2),
        torch.nn.Flatten(),
        torch.nn.Dropout(0.5),
        torch.nn.Linear(1600, CONVNET_CLASSES),
    )
    conv1_k, conv1_b, conv2_k, conv2_b, dense_k, dense_b = weights
    # Dense rows are in (h, w, c) order in Keras's flatten, (c, h, w) in PyTorch's.
    dense_k = dense_k.reshape(5, 5, 64, CONVNET_CLASSES).transpose(2, 0, 1, 3)
    dense_k = dense_k.reshape(1600, CONVNET_CLASSES)
    with torch.no_grad():
        for module, kernel, bias in ((net[0], conv1_k, conv1_b), (net[3], conv2_k, conv2_b)):
            module.weight.copy_(torch.from_numpy(kernel.transpose(3, 2, 0, 1).copy()))
            module.bias.copy_(torch.from_numpy(bias))
        net[8].weight.copy_(torch.from_numpy(dense_k.T.copy()))
        net[8].bias.copy_(torch.from_numpy(dense_b))
    return net


def torch_convnet_fit(weights, x, y, *, batch_size):
    """The PyTorch loop on (N, 1, 28, 28) images (its layout); ``y`` integer labels (its
    cross-entropy takes class indices, the same loss as one-hot targets)."""
    import torch

    torch.manual_seed(0)
    net = torch_convnet(weights)
    optimizer = torch.optim.Adam(net.parameters(), lr=1e-3, eps=1e-7)
    images = torch.from_numpy(np.ascontiguousarray(x.transpose(0, 3, 1, 2)))
    labels = torch.from_numpy(y.astype(np.int64))
    start = time.perf_counter()
    _torch_train(
        net, torch.nn.CrossEntropyLoss(), optimizer, images, labels, batch_size=batch_size,
        epochs=1, validation=None,
    )  # fmt: skip
    return time.perf_counter() - start, net


def torch_convnet_predict(net, x, *, batch_size):
    import torch

    images = torch.from_numpy(np.ascontiguousarray(x.transpose(0, 3, 1, 2)))
    start = time.perf_counter()
    net.eval()
    with torch.inference_mode():
        batches = [
            torch.softmax(net(images[first : first + batch_size]), 1)
            for first in range(0, len(images), batch_size)
        ]
        outputs = torch.cat(batches).numpy()
    return time.perf_counter() - start, outputs


def keras_convnet(weights):
    import keras

    def build():
        model = keras.Sequential(
            [
                keras.Input(shape=CONVNET_INPUT),
                keras.layers.Conv2D(32, kernel_size=(3, 3), activation="relu"),
                keras.layers.MaxPooling2D(pool_size=(2, 2)),
                keras.layers.Conv2D(64, kernel_size=(3, 3), activation="relu"),
                keras.layers.MaxPooling2D(pool_size=(2, 2)),
                keras.layers.Flatten(),
                keras.layers.Dropout(0.5),
                keras.layers.Dense(CONVNET_CLASSES, activation="softmax"),
            ]
        )
        model.compile(optimizer="adam", loss="categorical_crossentropy", metrics=["accuracy"])
        return model

    model = _keras_model("mnist_convnet", build)
    model.set_weights(weights)
    return model


def keras_convnet_fit(weights, x, y, *, batch_size):
    model = keras_convnet(weights)
    start = time.perf_counter()
    model.fit(x, y, batch_size=batch_size, epochs=1, verbose=0)
    return time.perf_counter() - start, model


# --- The keras.io "Text classification with Transformer" (case 11) -----------------------
#
# Token and position embeddings (summed) - a Transformer block (MultiHeadAttention with
# key_dim = embed_dim, Dropout, residual, LayerNormalization; Dense(ff_dim, relu) - Dense
# (embed_dim), Dropout, residual, LayerNormalization) - GlobalAveragePooling1D - Dropout -
# Dense(20, relu) - Dropout - Dense(2, softmax); Adam, sparse categorical cross-entropy.


@dataclass(frozen=True)
class TransformerSpec:
    vocabulary: int = 20_000
    length: int = 200
    embed_dim: int = 32
    num_heads: int = 2
    ff_dim: int = 32
    dropout: float = 0.1


def positions(rows: int, length: int) -> np.ndarray:
    """The position ids 0..length-1 of every row: the position embedding's input."""
    return np.tile(np.arange(length, dtype=np.int32), (rows, 1))


def ferrograd_transformer(spec: TransformerSpec, seed: int = 0):
    """The example's model as a functional model: the position embedding reads a second
    input holding the positions (the same math as its ``TokenAndPositionEmbedding``)."""
    import ferrograd as fg
    from ferrograd import layers

    fg.set_seed(seed)
    tokens = layers.Input(shape=(spec.length,), dtype="int32")
    where = layers.Input(shape=(spec.length,), dtype="int32")
    x = layers.Add()(
        [
            layers.Embedding(spec.vocabulary, spec.embed_dim)(tokens),
            layers.Embedding(spec.length, spec.embed_dim)(where),
        ]
    )
    attention = layers.MultiHeadAttention(spec.num_heads, spec.embed_dim)(x, x)
    attention = layers.Dropout(spec.dropout)(attention)
    out1 = layers.LayerNormalization(epsilon=1e-6)(layers.Add()([x, attention]))
    ffn = layers.Dense(spec.ff_dim, activation="relu")(out1)
    ffn = layers.Dropout(spec.dropout)(layers.Dense(spec.embed_dim)(ffn))
    x = layers.LayerNormalization(epsilon=1e-6)(layers.Add()([out1, ffn]))
    x = layers.Dropout(spec.dropout)(layers.GlobalAveragePooling1D()(x))
    x = layers.Dropout(spec.dropout)(layers.Dense(20, activation="relu")(x))
    model = fg.Model([tokens, where], layers.Dense(2, activation="softmax")(x))
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
    return model


def ferrograd_transformer_fit(spec, x, y, *, batch_size):
    model = ferrograd_transformer(spec)
    where = positions(len(x), spec.length)
    start = time.perf_counter()
    model.fit([x, where], y, batch_size=batch_size, epochs=1, verbose=0)
    return time.perf_counter() - start


def torch_transformer_fit(spec, x, y, *, batch_size):
    """The same model in PyTorch. ``nn.MultiheadAttention`` splits ``embed_dim`` across the
    heads (head size 16 here), where Keras's ``key_dim=embed_dim`` gives each head 32."""
    import torch

    torch.manual_seed(0)

    class Classifier(torch.nn.Module):
        def __init__(self):
            super().__init__()
            d = spec.embed_dim
            self.tokens = torch.nn.Embedding(spec.vocabulary, d)
            self.positions = torch.nn.Embedding(spec.length, d)
            self.attention = torch.nn.MultiheadAttention(d, spec.num_heads, batch_first=True)
            self.norm1 = torch.nn.LayerNorm(d, eps=1e-6)
            self.norm2 = torch.nn.LayerNorm(d, eps=1e-6)
            self.ffn = torch.nn.Sequential(
                torch.nn.Linear(d, spec.ff_dim), torch.nn.ReLU(), torch.nn.Linear(spec.ff_dim, d)
            )
            self.dropout = torch.nn.Dropout(spec.dropout)
            self.hidden = torch.nn.Linear(d, 20)
            self.out = torch.nn.Linear(20, 2)

        def forward(self, ids):
            where = torch.arange(ids.shape[1], device=ids.device)
            x = self.tokens(ids) + self.positions(where)
            attended, _ = self.attention(x, x, x, need_weights=False)
            out1 = self.norm1(x + self.dropout(attended))
            x = self.norm2(out1 + self.dropout(self.ffn(out1)))
            x = self.dropout(x.mean(dim=1))
            return self.out(self.dropout(torch.relu(self.hidden(x))))

    net = Classifier()
    optimizer = torch.optim.Adam(net.parameters(), lr=1e-3, eps=1e-7)
    tokens = torch.from_numpy(x.astype(np.int64))
    labels = torch.from_numpy(y.astype(np.int64))
    start = time.perf_counter()
    _torch_train(
        net, torch.nn.CrossEntropyLoss(), optimizer, tokens, labels, batch_size=batch_size,
        epochs=1, validation=None,
    )  # fmt: skip
    return time.perf_counter() - start


def keras_transformer_fit(spec, x, y, *, batch_size):
    import keras

    def build():
        tokens = keras.Input((spec.length,), dtype="int32")
        where = keras.Input((spec.length,), dtype="int32")
        x = keras.layers.Add()(
            [
                keras.layers.Embedding(spec.vocabulary, spec.embed_dim)(tokens),
                keras.layers.Embedding(spec.length, spec.embed_dim)(where),
            ]
        )
        attention = keras.layers.MultiHeadAttention(spec.num_heads, spec.embed_dim)(x, x)
        attention = keras.layers.Dropout(spec.dropout)(attention)
        out1 = keras.layers.LayerNormalization(epsilon=1e-6)(keras.layers.Add()([x, attention]))
        ffn = keras.layers.Dense(spec.ff_dim, activation="relu")(out1)
        ffn = keras.layers.Dropout(spec.dropout)(keras.layers.Dense(spec.embed_dim)(ffn))
        x = keras.layers.LayerNormalization(epsilon=1e-6)(keras.layers.Add()([out1, ffn]))
        x = keras.layers.Dropout(spec.dropout)(keras.layers.GlobalAveragePooling1D()(x))
        x = keras.layers.Dropout(spec.dropout)(keras.layers.Dense(20, activation="relu")(x))
        model = keras.Model([tokens, where], keras.layers.Dense(2, activation="softmax")(x))
        model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
        return model

    model = _keras_model((spec, "transformer"), build)
    where = positions(len(x), spec.length)
    start = time.perf_counter()
    model.fit([x, where], y, batch_size=batch_size, epochs=1, verbose=0)
    return time.perf_counter() - start

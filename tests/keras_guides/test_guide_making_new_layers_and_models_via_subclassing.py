"""The keras.io guide "Making new layers and models via subclassing" (Keras 3), with the import
changed to ferrograd. Each test is one section of the guide; the asserts check what the guide
prints or states."""

import numpy as np
import pytest

import ferrograd as keras
from ferrograd import layers, ops


class Linear(keras.layers.Layer):
    def __init__(self, units=32, input_dim=32):
        super().__init__()
        self.w = self.add_weight(
            shape=(input_dim, units),
            initializer="random_normal",
            trainable=True,
        )
        self.b = self.add_weight(shape=(units,), initializer="zeros", trainable=True)

    def call(self, inputs):
        return ops.matmul(inputs, self.w) + self.b


def test_the_layer_class_the_combination_of_state_and_computation():
    x = ops.ones((2, 2))
    linear_layer = Linear(4, 2)
    y = linear_layer(x)
    assert tuple(y.shape) == (2, 4)
    assert linear_layer.weights == [linear_layer.w, linear_layer.b]
    np.testing.assert_allclose(
        y.numpy(), np.ones((2, 2)) @ linear_layer.w.numpy() + linear_layer.b.numpy(), rtol=1e-6
    )


class ComputeSum(keras.layers.Layer):
    def __init__(self, input_dim):
        super().__init__()
        self.total = self.add_weight(initializer="zeros", shape=(input_dim,), trainable=False)

    def call(self, inputs):
        self.total.assign_add(ops.sum(inputs, axis=0))
        return self.total


def test_layers_can_have_non_trainable_weights():
    x = ops.ones((2, 2))
    my_sum = ComputeSum(2)
    y = my_sum(x)
    assert y.numpy().tolist() == [2.0, 2.0]
    y = my_sum(x)
    assert y.numpy().tolist() == [4.0, 4.0]
    assert len(my_sum.weights) == 1
    assert len(my_sum.non_trainable_weights) == 1
    assert len(my_sum.trainable_weights) == 0


class LinearBuilt(keras.layers.Layer):
    def __init__(self, units=32):
        super().__init__()
        self.units = units

    def build(self, input_shape):
        self.w = self.add_weight(
            shape=(input_shape[-1], self.units),
            initializer="random_normal",
            trainable=True,
        )
        self.b = self.add_weight(shape=(self.units,), initializer="random_normal", trainable=True)

    def call(self, inputs):
        return ops.matmul(inputs, self.w) + self.b


def test_deferring_weight_creation_until_the_shape_of_the_inputs_is_known():
    x = ops.ones((2, 2))
    linear_layer = LinearBuilt(32)
    assert not linear_layer.built
    y = linear_layer(x)
    assert linear_layer.built and tuple(y.shape) == (2, 32)
    assert tuple(linear_layer.w.shape) == (2, 32)


class MLPBlock(keras.layers.Layer):
    def __init__(self):
        super().__init__()
        self.linear_1 = LinearBuilt(32)
        self.linear_2 = LinearBuilt(32)
        self.linear_3 = LinearBuilt(1)

    def call(self, inputs):
        x = self.linear_1(inputs)
        x = keras.activations.relu(x)
        x = self.linear_2(x)
        x = keras.activations.relu(x)
        return self.linear_3(x)


def test_layers_are_recursively_composable():
    mlp = MLPBlock()
    y = mlp(ops.ones(shape=(3, 64)))  # The first call to the `mlp` will create the weights
    assert tuple(y.shape) == (3, 1)
    assert len(mlp.weights) == 6
    assert len(mlp.trainable_weights) == 6


class ActivityRegularizationLayer(keras.layers.Layer):
    def __init__(self, rate=1e-2):
        super().__init__()
        self.rate = rate

    def call(self, inputs):
        self.add_loss(self.rate * ops.mean(inputs))
        return inputs


class OuterLayer(keras.layers.Layer):
    def __init__(self):
        super().__init__()
        self.activity_reg = ActivityRegularizationLayer(1e-2)

    def call(self, inputs):
        return self.activity_reg(inputs)


class OuterLayerWithKernelRegularizer(keras.layers.Layer):
    def __init__(self):
        super().__init__()
        self.dense = keras.layers.Dense(32, kernel_regularizer=keras.regularizers.l2(1e-3))

    def call(self, inputs):
        return self.dense(inputs)


def test_the_add_loss_method():
    layer = OuterLayer()
    assert len(layer.losses) == 0  # No losses yet since the layer has never been called
    _ = layer(ops.zeros((1, 1)))
    assert len(layer.losses) == 1  # We created one loss value
    # `layer.losses` gets reset at the start of each __call__
    _ = layer(ops.zeros((1, 1)))
    assert len(layer.losses) == 1  # This is the loss created during the call above

    layer = OuterLayerWithKernelRegularizer()
    _ = layer(ops.zeros((1, 1)))
    # This is `1e-3 * sum(layer.dense.kernel ** 2)`, created by the `kernel_regularizer` above.
    assert len(layer.losses) == 1
    kernel = layer.dense.kernel.numpy()
    np.testing.assert_allclose(float(layer.losses[0]), 1e-3 * np.sum(kernel**2), rtol=1e-5)


def test_losses_added_in_call_train_with_fit():
    inputs = keras.Input(shape=(3,))
    outputs = ActivityRegularizationLayer()(inputs)
    model = keras.Model(inputs, outputs)

    # If there is a loss passed in `compile`, the regularization losses get added to it
    model.compile(optimizer="adam", loss="mse")
    x, y = np.random.random((2, 3)), np.random.random((2, 3))
    history = model.fit(x, y, verbose=0)
    expected = np.mean((x - y) ** 2) + 1e-2 * np.mean(x)
    np.testing.assert_allclose(history.history["loss"][0], expected, rtol=1e-5)


@pytest.mark.xfail(
    reason="compile() without a loss trains in the Python loop, which runs a functional "
    "model's graph without the losses its Python layers add; the Rust loop adds them",
    strict=True,
)
def test_losses_added_in_call_are_the_whole_loss_without_a_compiled_one():
    inputs = keras.Input(shape=(3,))
    model = keras.Model(inputs, ActivityRegularizationLayer()(inputs))
    x, y = np.random.random((2, 3)), np.random.random((2, 3))
    # It's also possible not to pass any loss in `compile`, since the model already has a loss
    # to minimize, via the `add_loss` call during the forward pass!
    model.compile(optimizer="adam")
    history = model.fit(x, y, verbose=0)
    np.testing.assert_allclose(history.history["loss"][0], 1e-2 * np.mean(x), rtol=1e-5)


class LinearSerializable(keras.layers.Layer):
    def __init__(self, units=32, **kwargs):
        super().__init__(**kwargs)
        self.units = units

    def build(self, input_shape):
        self.w = self.add_weight(
            shape=(input_shape[-1], self.units),
            initializer="random_normal",
            trainable=True,
        )
        self.b = self.add_weight(shape=(self.units,), initializer="random_normal", trainable=True)

    def call(self, inputs):
        return ops.matmul(inputs, self.w) + self.b

    def get_config(self):
        config = super().get_config()
        config.update({"units": self.units})
        return config


def test_you_can_optionally_enable_serialization_on_your_layers():
    layer = LinearSerializable(64)
    config = layer.get_config()
    assert config["units"] == 64
    new_layer = LinearSerializable.from_config(config)
    assert new_layer.units == 64 and new_layer.name == layer.name


class CustomDropout(keras.layers.Layer):
    def __init__(self, rate, **kwargs):
        super().__init__(**kwargs)
        self.rate = rate
        self.seed_generator = keras.random.SeedGenerator(1337)

    def call(self, inputs, training=None):
        if training:
            return keras.random.dropout(inputs, rate=self.rate, seed=self.seed_generator)
        return inputs


def test_privileged_training_argument_in_the_call_method():
    layer = CustomDropout(0.5)
    x = ops.ones((100, 10))
    np.testing.assert_array_equal(layer(x).numpy(), 1.0)
    dropped = layer(x, training=True).numpy()
    assert set(np.unique(dropped)) <= {0.0, 2.0} and 0.3 < (dropped == 0).mean() < 0.7
    # In a model: dropout when fit trains, none when predict runs.
    inputs = keras.Input(shape=(10,))
    model = keras.Model(inputs, CustomDropout(0.5)(inputs))
    np.testing.assert_array_equal(model.predict(np.ones((4, 10)), verbose=0), 1.0)


class Sampling(layers.Layer):
    """Uses (z_mean, z_log_var) to sample z, the vector encoding a digit."""

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.seed_generator = keras.random.SeedGenerator(1337)

    def call(self, inputs):
        z_mean, z_log_var = inputs
        batch = ops.shape(z_mean)[0]
        dim = ops.shape(z_mean)[1]
        epsilon = keras.random.normal(shape=(batch, dim), seed=self.seed_generator)
        return z_mean + ops.exp(0.5 * z_log_var) * epsilon


class Encoder(layers.Layer):
    """Maps MNIST digits to a triplet (z_mean, z_log_var, z)."""

    def __init__(self, latent_dim=32, intermediate_dim=64, name="encoder", **kwargs):
        super().__init__(name=name, **kwargs)
        self.dense_proj = layers.Dense(intermediate_dim, activation="relu")
        self.dense_mean = layers.Dense(latent_dim)
        self.dense_log_var = layers.Dense(latent_dim)
        self.sampling = Sampling()

    def call(self, inputs):
        x = self.dense_proj(inputs)
        z_mean = self.dense_mean(x)
        z_log_var = self.dense_log_var(x)
        z = self.sampling((z_mean, z_log_var))
        return z_mean, z_log_var, z


class Decoder(layers.Layer):
    """Converts z, the encoded digit vector, back into a readable digit."""

    def __init__(self, original_dim, intermediate_dim=64, name="decoder", **kwargs):
        super().__init__(name=name, **kwargs)
        self.dense_proj = layers.Dense(intermediate_dim, activation="relu")
        self.dense_output = layers.Dense(original_dim, activation="sigmoid")

    def call(self, inputs):
        x = self.dense_proj(inputs)
        return self.dense_output(x)


class VariationalAutoEncoder(keras.Model):
    """Combines the encoder and decoder into an end-to-end model for training."""

    def __init__(
        self,
        original_dim,
        intermediate_dim=64,
        latent_dim=32,
        name="autoencoder",
        **kwargs,
    ):
        super().__init__(name=name, **kwargs)
        self.original_dim = original_dim
        self.encoder = Encoder(latent_dim=latent_dim, intermediate_dim=intermediate_dim)
        self.decoder = Decoder(original_dim, intermediate_dim=intermediate_dim)

    def call(self, inputs):
        z_mean, z_log_var, z = self.encoder(inputs)
        reconstructed = self.decoder(z)
        # Add KL divergence regularization loss.
        kl_loss = -0.5 * ops.mean(z_log_var - ops.square(z_mean) - ops.exp(z_log_var) + 1)
        self.add_loss(kl_loss)
        return reconstructed


def test_putting_it_all_together_an_end_to_end_example():
    (x_train, _), _ = keras.datasets.mnist.load_data()
    x_train = x_train[:6000].reshape(6000, 784).astype("float32") / 255

    original_dim = 784
    vae = VariationalAutoEncoder(784, 64, 32)

    optimizer = keras.optimizers.Adam(learning_rate=1e-3)
    vae.compile(optimizer, loss=keras.losses.MeanSquaredError())

    history = vae.fit(x_train, x_train, epochs=2, batch_size=64, verbose=0)
    losses = history.history["loss"]
    # The reconstruction error plus the KL term falls (the guide's run ends near 0.07).
    assert losses[1] < losses[0] < 0.2
    assert original_dim == vae.output_shape[-1]
    # The KL term is in the trained loss: the loss is above the bare reconstruction error.
    reconstruction = np.mean((vae.predict(x_train[:512], verbose=0) - x_train[:512]) ** 2)
    assert losses[-1] > reconstruction

from common import build
cells = [
("md", """
# Tensors and automatic differentiation

ferrograd's low level works like PyTorch's: tensors record the operations made with them, and
`backward()` computes the gradient of a result with respect to every input that asked for one.
This notebook shows tensors and broadcasting, checks gradients against finite differences,
trains a tiny regression by hand, and shows why XOR needs a hidden layer.
"""),
("code", """
import json

import matplotlib.pyplot as plt
import numpy as np

import ferrograd as fg
from ferrograd import layers

fg.set_seed(0)
results = {}
"""),
("md", """
## Tensors and broadcasting

A tensor is an n-dimensional array of float32 (the default) or float64 values. Arithmetic
follows numpy's broadcasting rules: a `(3, 1)` column and a `(4,)` row make a `(3, 4)` table.
"""),
("code", """
column = fg.tensor([[1.0], [2.0], [3.0]])
row = fg.tensor([10.0, 20.0, 30.0, 40.0])
table = column * row
print(table)
print(table.shape, table.dtype, table.sum(axis=0))
"""),
("md", """
## Gradients with `backward()`

Tensors created with `requires_grad=True` are the leaves of a graph. After `backward()`, each
holds `d(result)/d(leaf)` in `.grad`.
"""),
("code", """
x = fg.tensor(np.random.default_rng(0).standard_normal((3, 4)), requires_grad=True)
w = fg.tensor(np.random.default_rng(1).standard_normal((4, 2)), requires_grad=True)
y = (x @ w).relu().sum()
y.backward()
print("y =", y.item())
print("dy/dw =\\n", w.grad.numpy())
"""),
("md", """
## Checking a gradient against finite differences

For a function `f`, the central difference `(f(x + eps) - f(x - eps)) / (2 eps)` approximates
the derivative. In float64 it agrees with backward to about 1e-9.
"""),
("code", """
def f(a):
    return ((a * a).sum(axis=1, keepdims=True).sqrt() * a.softmax(axis=-1)).sum()

a = fg.tensor(np.random.default_rng(2).standard_normal((3, 5)), dtype="float64", requires_grad=True)
f(a).backward()
analytic = a.grad.numpy()

eps = 1e-6
values = a.numpy()
numeric = np.zeros_like(values)
for index in np.ndindex(values.shape):
    up, down = values.copy(), values.copy()
    up[index] += eps
    down[index] -= eps
    numeric[index] = (f(fg.tensor(up, dtype="float64")).item() - f(fg.tensor(down, dtype="float64")).item()) / (2 * eps)
error = np.abs(analytic - numeric).max()
print(f"largest difference between backward and finite differences: {error:.2e}")
results["gradient_check_error"] = float(error)
"""),
("md", """
## A tiny regression, trained by hand

Fit `y = 3x + 2` from noisy samples with gradient descent written out: forward, loss,
`backward()`, then a step against the gradient (outside the graph, with `no_grad`).
"""),
("code", """
rng = np.random.default_rng(3)
xs = rng.uniform(-1, 1, (100, 1)).astype("float32")
ys = 3 * xs + 2 + 0.1 * rng.standard_normal((100, 1)).astype("float32")
X, Y = fg.tensor(xs), fg.tensor(ys)

weight = fg.tensor([[0.0]], requires_grad=True)
bias = fg.tensor([0.0], requires_grad=True)
learning_rate = 0.1
losses = []
for step in range(200):
    loss = ((X @ weight + bias - Y) ** 2).mean()
    weight.grad, bias.grad = None, None
    loss.backward()
    with fg.no_grad():
        weight = (weight - learning_rate * weight.grad).detach()
        bias = (bias - learning_rate * bias.grad).detach()
    weight.requires_grad = True
    bias.requires_grad = True
    losses.append(loss.item())

print(f"learned y = {weight.item():.3f} x + {bias.item():.3f}")
results["regression_weight"], results["regression_bias"] = weight.item(), bias.item()

fig, (ax_fit, ax_loss) = plt.subplots(1, 2, figsize=(11, 4))
ax_fit.scatter(xs, ys, s=10, label="samples")
grid = np.linspace(-1, 1, 50)
ax_fit.plot(grid, weight.item() * grid + bias.item(), color="C1", label="fitted line")
ax_fit.set(title="Fitted line", xlabel="x", ylabel="y")
ax_fit.legend()
ax_loss.plot(losses)
ax_loss.set(title="Mean squared error while training", xlabel="step", ylabel="loss", yscale="log")
plt.tight_layout()
plt.show()
"""),
("md", """
## XOR: why a hidden layer

XOR's four points cannot be split by a line. A linear model trained with mean squared error
(and a little L2 weight decay) can do no better than predicting 0.5 everywhere: by symmetry
the best weights are zero and the best bias is the mean target, 0.5, for a loss of 0.25.
A two-layer network bends the boundary and fits all four points.
"""),
("code", """
xor_x = np.array([[0, 0], [0, 1], [1, 0], [1, 1]], dtype="float32")
xor_y = np.array([[0], [1], [1], [0]], dtype="float32")

fg.set_seed(4)
linear = fg.Sequential([layers.Dense(1, input_shape=(2,), kernel_regularizer=fg.regularizers.l2(1e-3))])
linear.compile(optimizer=fg.optimizers.SGD(learning_rate=0.1), loss="mse")
linear_history = linear.fit(xor_x, xor_y, epochs=500, batch_size=4, verbose=0)
print("linear model predictions:", linear.predict(xor_x, verbose=0).ravel().round(3))
print("linear model loss:", round(linear_history.history["loss"][-1], 4))

fg.set_seed(4)
mlp = fg.Sequential([
    layers.Dense(8, activation="tanh", input_shape=(2,)),
    layers.Dense(1, activation="sigmoid"),
])
mlp.compile(optimizer=fg.optimizers.Adam(learning_rate=0.05), loss="mse")
mlp.fit(xor_x, xor_y, epochs=500, batch_size=4, verbose=0)
mlp_predictions = mlp.predict(xor_x, verbose=0).ravel()
print("two-layer network predictions:", mlp_predictions.round(3))
results["xor_linear_loss"] = linear_history.history["loss"][-1]
results["xor_mlp_accuracy"] = float(np.mean((mlp_predictions > 0.5) == xor_y.ravel()))
"""),
("code", """
grid_x, grid_y = np.meshgrid(np.linspace(-0.5, 1.5, 200), np.linspace(-0.5, 1.5, 200))
points = np.stack([grid_x.ravel(), grid_y.ravel()], axis=1).astype("float32")
fig, axes = plt.subplots(1, 2, figsize=(11, 4.5))
for ax, (name, model) in zip(axes, [("Linear model", linear), ("Two-layer network", mlp)]):
    surface = model.predict(points, batch_size=4096, verbose=0).reshape(grid_x.shape)
    contour = ax.contourf(grid_x, grid_y, surface, levels=np.linspace(0, 1, 21), cmap="coolwarm")
    ax.scatter(xor_x[:, 0], xor_x[:, 1], c=xor_y.ravel(), cmap="coolwarm", edgecolors="black", s=120)
    ax.set(title=f"{name}: prediction over the plane", xlabel="input 1", ylabel="input 2")
    fig.colorbar(contour, ax=ax, label="prediction")
plt.tight_layout()
plt.show()
"""),
("md", "The figures this notebook reports (read by the tests):"),
("code", """
print("RESULTS " + json.dumps(results))
"""),
]
build("autograd_basics.ipynb", cells)

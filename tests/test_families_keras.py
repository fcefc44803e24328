"""Nadam, Adamax, Lion; the KL divergence, Poisson, hinge, squared hinge, log-cosh, cosine
similarity, MSLE, MAPE and categorical focal losses; top-k accuracies, F1 and R² metrics:
against numpy implementations of Keras's formulas, PyTorch where its definition is the same,
scikit-learn for the metrics, finite differences, and through compile/fit/save/load."""

import numpy as np
import pytest
import torch
from gradcheck import check_gradients
from sklearn.metrics import f1_score, r2_score, top_k_accuracy_score

import ferrograd as fg
from ferrograd import layers

# --- optimizers: numpy of Keras's update_step --------------------------------------------


def keras_nadam(w, grads, lr, beta_1=0.9, beta_2=0.999, epsilon=1e-7):
    m, v, u_product = np.zeros_like(w), np.zeros_like(w), 1.0
    for step, g in enumerate(grads):
        t = step + 1
        u_t = beta_1 * (1.0 - 0.5 * 0.96**t)
        u_t_1 = beta_1 * (1.0 - 0.5 * 0.96 ** (t + 1))
        u_product = u_product * u_t
        m = m + (g - m) * (1 - beta_1)
        v = v + (g * g - v) * (1 - beta_2)
        m_hat = u_t_1 * m / (1 - u_product * u_t_1) + (1 - u_t) * g / (1 - u_product)
        v_hat = v / (1 - beta_2**t)
        w = w - m_hat * lr / (np.sqrt(v_hat) + epsilon)
    return w


def keras_adamax(w, grads, lr, beta_1=0.9, beta_2=0.999, epsilon=1e-7):
    m, u = np.zeros_like(w), np.zeros_like(w)
    for step, g in enumerate(grads):
        t = step + 1
        m = m + (g - m) * (1 - beta_1)
        u = np.maximum(beta_2 * u, np.abs(g))
        w = w - lr * m / ((1 - beta_1**t) * (u + epsilon))
    return w


def keras_lion(w, grads, lr, beta_1=0.9, beta_2=0.99):
    m = np.zeros_like(w)
    for g in grads:
        w = w - lr * np.sign(m * beta_1 + g * (1 - beta_1))
        m = m * beta_2 + g * (1 - beta_2)
    return w


def run_ours(opt, w0, grads):
    w = fg.tensor(w0.copy(), dtype="float64")
    for g in grads:
        opt.apply_gradients([(fg.tensor(g, dtype="float64"), w)])
    return w.numpy()


@pytest.fixture
def steps():
    rng = np.random.default_rng(0)
    w0 = rng.standard_normal((4, 3))
    # Gradients of changing sign and size, over more steps than the momentum schedule's knee.
    grads = [rng.standard_normal((4, 3)) * (1 + 3 * (i % 3)) for i in range(40)]
    return w0, grads


@pytest.mark.parametrize(
    ("cls", "reference", "kwargs"),
    [
        (fg.optimizers.Nadam, keras_nadam, {}),
        (fg.optimizers.Nadam, keras_nadam, {"beta_1": 0.5, "beta_2": 0.9, "epsilon": 1e-3}),
        (fg.optimizers.Adamax, keras_adamax, {}),
        (fg.optimizers.Adamax, keras_adamax, {"beta_1": 0.7, "beta_2": 0.8, "epsilon": 1e-2}),
        (fg.optimizers.Lion, keras_lion, {}),
        (fg.optimizers.Lion, keras_lion, {"beta_1": 0.5, "beta_2": 0.3}),
    ],
)
def test_optimizers_follow_kerass_update_step(cls, reference, kwargs, steps):
    w0, grads = steps
    for n in (1, 2, 5, 40):
        ours = run_ours(cls(learning_rate=0.01, **kwargs), w0, grads[:n])
        np.testing.assert_allclose(ours, reference(w0, grads[:n], 0.01, **kwargs), rtol=1e-12)


def test_nadam_is_torchs_with_momentum_decay_1_and_not_its_default(steps):
    w0, grads = steps
    ours = run_ours(fg.optimizers.Nadam(learning_rate=0.01, epsilon=1e-8), w0, grads)

    def torch_run(**kw):
        p = torch.tensor(w0.copy(), requires_grad=True)
        opt = torch.optim.NAdam([p], lr=0.01, eps=1e-8, **kw)
        for g in grads:
            p.grad = torch.tensor(g)
            opt.step()
        return p.detach().numpy()

    # PyTorch keeps its product of momentums in a float32 scalar: agreement to about 1e-7.
    np.testing.assert_allclose(ours, torch_run(momentum_decay=1.0), rtol=1e-6, atol=1e-9)
    # PyTorch's default schedule decays 250 times slower: visibly different after 40 steps.
    assert np.abs(ours - torch_run()).max() > 1e-4


def test_adamax_is_torchs_when_the_epsilons_vanish(steps):
    w0, grads = steps
    ours = run_ours(fg.optimizers.Adamax(learning_rate=0.01, epsilon=1e-30), w0, grads)
    p = torch.tensor(w0.copy(), requires_grad=True)
    opt = torch.optim.Adamax([p], lr=0.01, eps=0.0)
    for g in grads:
        p.grad = torch.tensor(g)
        opt.step()
    np.testing.assert_allclose(ours, p.detach().numpy(), rtol=1e-12)


def test_optimizers_in_float32_and_with_weight_decay(steps):
    w0, grads = steps
    for cls, ref in ((fg.optimizers.Nadam, keras_nadam), (fg.optimizers.Adamax, keras_adamax)):
        w = fg.tensor(w0.astype(np.float32))
        opt = cls(learning_rate=0.01)
        for g in grads[:5]:
            opt.apply_gradients([(fg.tensor(g.astype(np.float32)), w)])
        np.testing.assert_allclose(w.numpy(), ref(w0, grads[:5], 0.01), rtol=1e-4, atol=1e-5)
    # Lion with decoupled weight decay: w -= w * wd * lr first, then the sign step.
    w = fg.tensor(w0.copy(), dtype="float64")
    fg.optimizers.Lion(learning_rate=0.1, weight_decay=0.5).apply_gradients(
        [(fg.tensor(grads[0], dtype="float64"), w)]
    )
    expected = w0 - w0 * 0.5 * 0.1 - 0.1 * np.sign(grads[0])
    np.testing.assert_allclose(w.numpy(), expected, rtol=1e-14)


def test_optimizer_arguments_and_names():
    assert isinstance(fg.optimizers.get("nadam"), fg.optimizers.Nadam)
    assert isinstance(fg.optimizers.get("Adamax"), fg.optimizers.Adamax)
    lion = fg.optimizers.get("lion")
    assert (lion.beta_1, lion.beta_2, lion.learning_rate) == (0.9, 0.99, 0.001)
    nadam = fg.optimizers.Nadam()
    assert (nadam.beta_1, nadam.beta_2, nadam.epsilon, nadam.name) == (0.9, 0.999, 1e-7, "nadam")
    with pytest.raises(ValueError, match="beta_1=0.0"):
        fg.optimizers.Lion(beta_1=0.0)
    with pytest.raises(ValueError, match="beta_2=1.5"):
        fg.optimizers.Adamax(beta_2=1.5)
    with pytest.raises(ValueError, match="epsilon"):
        fg.optimizers.Nadam(epsilon=-1.0)
    config = fg.optimizers.serialize(fg.optimizers.Nadam(beta_1=0.8))
    assert fg.optimizers.deserialize(config).beta_1 == 0.8


@pytest.mark.parametrize("name", ["nadam", "adamax", "lion"])
def test_optimizer_state_round_trips_through_model_files(tmp_path, name):
    rng = np.random.default_rng(1)
    x = rng.standard_normal((64, 5)).astype("float32")
    y = rng.standard_normal((64, 1)).astype("float32")

    def model():
        fg.set_seed(2)
        m = fg.Sequential([layers.Dense(4, activation="tanh", input_shape=(5,)), layers.Dense(1)])
        m.compile(optimizer=name, loss="mse")
        return m

    straight = model()
    straight.fit(x, y, epochs=2, batch_size=16, verbose=0, shuffle=False)
    straight.save(tmp_path / "m.fgm")
    loaded = fg.models.load_model(tmp_path / "m.fgm")
    assert type(loaded.optimizer).__name__.lower() == name
    assert loaded.optimizer.iterations == straight.optimizer.iterations == 8
    straight.fit(x, y, epochs=1, batch_size=16, verbose=0, shuffle=False)
    loaded.fit(x, y, epochs=1, batch_size=16, verbose=0, shuffle=False)
    for a, b in zip(straight.get_weights(), loaded.get_weights(), strict=True):
        np.testing.assert_array_equal(a, b)


# --- losses: numpy of Keras's functions --------------------------------------------------

EPS = 1e-7


def np_kld(t, p):
    t, p = np.clip(t, EPS, 1), np.clip(p, EPS, 1)
    return np.sum(t * np.log(t / p), axis=-1)


def np_poisson(t, p):
    return np.mean(p - t * np.log(p + EPS), axis=-1)


def np_hinge_labels(t):
    return 2 * t - 1 if np.all((t == 0) | (t == 1)) else t


def np_hinge(t, p):
    return np.mean(np.maximum(1 - np_hinge_labels(t) * p, 0), axis=-1)


def np_squared_hinge(t, p):
    return np.mean(np.maximum(1 - np_hinge_labels(t) * p, 0) ** 2, axis=-1)


def np_log_cosh(t, p):
    x = p - t
    return np.mean(x + np.logaddexp(0, -2 * x) - np.log(2), axis=-1)


def np_cosine(t, p):
    def norm(x):
        return x / np.sqrt(np.maximum(np.sum(x * x, axis=-1, keepdims=True), EPS * EPS))

    return -np.sum(norm(t) * norm(p), axis=-1)


def np_msle(t, p):
    return np.mean((np.log(np.maximum(p, EPS) + 1) - np.log(np.maximum(t, EPS) + 1)) ** 2, axis=-1)


def np_mape(t, p):
    return 100 * np.mean(np.abs((t - p) / np.maximum(np.abs(t), EPS)), axis=-1)


def np_focal(t, p, alpha=0.25, gamma=2.0, from_logits=False, label_smoothing=0.0):
    k = p.shape[-1]
    t = t * (1 - label_smoothing) + label_smoothing / k
    if from_logits:
        e = np.exp(p - p.max(-1, keepdims=True))
        p = e / e.sum(-1, keepdims=True)
    o = np.clip(p / p.sum(-1, keepdims=True), EPS, 1 - EPS)
    return np.sum(alpha * (1 - o) ** gamma * -t * np.log(o), axis=-1)


rng0 = np.random.default_rng(7)
PROBS_T = rng0.dirichlet(np.ones(5), size=6)
PROBS_P = rng0.dirichlet(np.ones(5), size=6)
BITS = (rng0.uniform(size=(6, 5)) > 0.5).astype(np.float64)
REAL_T = rng0.standard_normal((6, 5))
REAL_P = rng0.standard_normal((6, 5))
POSITIVE_P = rng0.uniform(0.1, 3.0, size=(6, 5))
ONE_HOT = np.eye(5)[rng0.integers(0, 5, size=6)]

LOSS_CASES = [
    (fg.losses.KLDivergence(), fg.losses.kl_divergence, np_kld, PROBS_T, PROBS_P),
    (fg.losses.Poisson(), fg.losses.poisson, np_poisson, BITS * 3, POSITIVE_P),
    (fg.losses.Hinge(), fg.losses.hinge, np_hinge, BITS, REAL_P),
    (fg.losses.Hinge(), fg.losses.hinge, np_hinge, np.sign(REAL_T), REAL_P),
    (fg.losses.SquaredHinge(), fg.losses.squared_hinge, np_squared_hinge, BITS, REAL_P),
    (fg.losses.LogCosh(), fg.losses.log_cosh, np_log_cosh, REAL_T, REAL_P * 30),
    (fg.losses.CosineSimilarity(), fg.losses.cosine_similarity, np_cosine, REAL_T, REAL_P),
    (
        fg.losses.MeanSquaredLogarithmicError(),
        fg.losses.mean_squared_logarithmic_error,
        np_msle,
        REAL_T,
        REAL_P,
    ),
    (
        fg.losses.MeanAbsolutePercentageError(),
        fg.losses.mean_absolute_percentage_error,
        np_mape,
        REAL_T,
        REAL_P,
    ),
    (
        fg.losses.CategoricalFocalCrossentropy(),
        fg.losses.categorical_focal_crossentropy,
        np_focal,
        ONE_HOT,
        PROBS_P,
    ),
]


@pytest.mark.parametrize(("loss", "fn", "reference", "t", "p"), LOSS_CASES)
def test_losses_match_kerass_formulas(loss, fn, reference, t, p):
    expected = reference(t, p)
    np.testing.assert_allclose(fn(t, fg.tensor(p, dtype="float64")).numpy(), expected, 1e-12)
    np.testing.assert_allclose(loss(t, fg.tensor(p, dtype="float64")).item(), expected.mean())
    f32 = loss(t, fg.tensor(p.astype(np.float32))).item()
    np.testing.assert_allclose(f32, expected.mean(), rtol=1e-5)


@pytest.mark.parametrize(("loss", "fn", "reference", "t", "p"), LOSS_CASES)
def test_loss_gradients_match_finite_differences(loss, fn, reference, t, p):
    check_gradients(lambda q: fn(t, q), p)


@pytest.mark.parametrize(
    "kwargs",
    [
        {"from_logits": True},
        {"alpha": 0.7, "gamma": 0.0, "label_smoothing": 0.2},
        {"gamma": 3.5, "from_logits": True, "label_smoothing": 0.1},
    ],
)
def test_focal_options(kwargs):
    logits = REAL_P * 2
    p = logits if kwargs.get("from_logits") else PROBS_P
    expected = np_focal(ONE_HOT, p, **kwargs)
    got = fg.losses.categorical_focal_crossentropy(ONE_HOT, fg.tensor(p, dtype="float64"), **kwargs)
    np.testing.assert_allclose(got.numpy(), expected, rtol=1e-12)
    check_gradients(lambda q: fg.losses.categorical_focal_crossentropy(ONE_HOT, q, **kwargs), p)
    loss = fg.losses.CategoricalFocalCrossentropy(**kwargs)
    assert fg.losses.deserialize(fg.losses.serialize(loss)).get_config() == loss.get_config()


def test_losses_against_torch():
    t, p = PROBS_T, PROBS_P
    kl = torch.nn.functional.kl_div(
        torch.log(torch.tensor(p)), torch.tensor(t), reduction="batchmean"
    )
    np.testing.assert_allclose(fg.losses.KLDivergence()(t, p).item(), kl.item(), rtol=1e-12)
    counts = BITS * 3
    pois = torch.nn.functional.poisson_nll_loss(
        torch.tensor(POSITIVE_P), torch.tensor(counts), log_input=False, eps=1e-7
    )
    np.testing.assert_allclose(fg.losses.Poisson()(counts, POSITIVE_P).item(), pois.item(), 1e-12)
    cos = -torch.nn.functional.cosine_similarity(
        torch.tensor(REAL_T), torch.tensor(REAL_P), dim=-1
    ).mean()
    np.testing.assert_allclose(fg.losses.CosineSimilarity()(REAL_T, REAL_P).item(), cos.item())


def test_loss_names_aliases_and_arguments():
    for name, cls in [
        ("kld", fg.losses.KLDivergence),
        ("kullback_leibler_divergence", fg.losses.KLDivergence),
        ("kl_divergence", fg.losses.KLDivergence),
        ("poisson", fg.losses.Poisson),
        ("hinge", fg.losses.Hinge),
        ("squared_hinge", fg.losses.SquaredHinge),
        ("logcosh", fg.losses.LogCosh),
        ("log_cosh", fg.losses.LogCosh),
        ("cosine_similarity", fg.losses.CosineSimilarity),
        ("msle", fg.losses.MeanSquaredLogarithmicError),
        ("mape", fg.losses.MeanAbsolutePercentageError),
        ("categorical_focal_crossentropy", fg.losses.CategoricalFocalCrossentropy),
        ("CategoricalFocalCrossentropy", fg.losses.CategoricalFocalCrossentropy),
    ]:
        assert type(fg.losses.get(name)) is cls, name
    assert fg.losses.kld is fg.losses.kl_divergence
    assert fg.losses.msle is fg.losses.mean_squared_logarithmic_error
    assert fg.losses.mape is fg.losses.mean_absolute_percentage_error
    focal = fg.losses.CategoricalFocalCrossentropy()
    assert (focal.get_config()["alpha"], focal.get_config()["gamma"]) == (0.25, 2.0)
    with pytest.raises(ValueError, match="axis=0"):
        fg.losses.CosineSimilarity(axis=0)
    with pytest.raises(ValueError, match="gamma"):
        fg.losses.CategoricalFocalCrossentropy(gamma=-1.0)
    with pytest.raises(ValueError, match="label_smoothing"):
        fg.losses.CategoricalFocalCrossentropy(label_smoothing=2.0)


@pytest.mark.parametrize(
    ("loss", "activation", "y"),
    [
        ("kld", "softmax", "probs"),
        ("poisson", "softplus", "counts"),
        ("hinge", "tanh", "bits"),
        ("squared_hinge", "tanh", "bits"),
        ("logcosh", None, "real"),
        ("cosine_similarity", None, "real"),
        ("msle", "softplus", "counts"),
        ("mape", None, "real"),
        (fg.losses.CategoricalFocalCrossentropy(gamma=1.0), "softmax", "onehot"),
    ],
)
def test_losses_train_and_round_trip_through_model_files(tmp_path, loss, activation, y):
    rng = np.random.default_rng(3)
    x = rng.standard_normal((64, 6)).astype("float32")
    targets = {
        "probs": rng.dirichlet(np.ones(3), size=64),
        "counts": rng.poisson(2.0, size=(64, 3)).astype(np.float64),
        "bits": (rng.uniform(size=(64, 3)) > 0.5).astype(np.float64),
        "real": rng.standard_normal((64, 3)) + 3.0,
        "onehot": np.eye(3)[rng.integers(0, 3, size=64)],
    }[y].astype("float32")
    fg.set_seed(4)
    model = fg.Sequential([layers.Dense(3, activation=activation, input_shape=(6,))])
    model.compile(optimizer=fg.optimizers.Adam(0.05), loss=loss)
    first = model.evaluate(x, targets, verbose=0)
    model.fit(x, targets, epochs=5, verbose=0)
    assert model.evaluate(x, targets, verbose=0) < first
    model.save(tmp_path / "m.fgm")
    loaded = fg.models.load_model(tmp_path / "m.fgm")
    assert type(loaded.loss) is type(fg.losses.get(loss))
    assert loaded.evaluate(x, targets, verbose=0) == pytest.approx(
        model.evaluate(x, targets, verbose=0)
    )


# --- metrics against scikit-learn --------------------------------------------------------


def batches(n, size):
    return [slice(i, min(i + size, n)) for i in range(0, n, size)]


@pytest.mark.parametrize("k", [1, 2, 5])
def test_top_k_accuracies_match_sklearn(k):
    rng = np.random.default_rng(k)
    scores = rng.uniform(size=(100, 7))
    labels = rng.integers(0, 7, size=100)
    expected = top_k_accuracy_score(labels, scores, k=k, labels=np.arange(7))
    dense = fg.metrics.TopKCategoricalAccuracy(k=k)
    sparse = fg.metrics.SparseTopKCategoricalAccuracy(k=k)
    for s in batches(100, 32):
        dense.update_state(np.eye(7)[labels[s]], scores[s])
        sparse.update_state(labels[s], scores[s])
    assert dense.result() == pytest.approx(expected, abs=1e-12)
    assert sparse.result() == pytest.approx(expected, abs=1e-12)
    dense.reset_state()
    assert dense.result() == 0.0
    assert fg.metrics.TopKCategoricalAccuracy().get_config()["k"] == 5
    with pytest.raises(ValueError, match="from_sorted_ids"):
        fg.metrics.SparseTopKCategoricalAccuracy(from_sorted_ids=True)


@pytest.mark.parametrize("average", [None, "micro", "macro", "weighted"])
@pytest.mark.parametrize("threshold", [None, 0.3])
def test_f1_score_matches_sklearn(average, threshold):
    rng = np.random.default_rng(5)
    y = (rng.uniform(size=(90, 4)) > 0.6).astype(np.float64)
    p = rng.uniform(size=(90, 4))
    predicted = (p > threshold) if threshold is not None else (p == p.max(1, keepdims=True))
    expected = f1_score(y, predicted.astype(int), average=average, zero_division=0)
    m = fg.metrics.F1Score(average=average, threshold=threshold)
    for s in batches(90, 25):
        m.update_state(y[s], p[s])
    np.testing.assert_allclose(m.result(), expected, rtol=1e-5)
    m.reset_state()
    assert np.all(np.asarray(m.result()) == 0.0)


@pytest.mark.parametrize(
    ("aggregation", "multioutput"),
    [("uniform_average", "uniform_average"), ("variance_weighted_average", "variance_weighted")],
)
def test_r2_score_matches_sklearn(aggregation, multioutput):
    rng = np.random.default_rng(6)
    y = rng.standard_normal((80, 3)) * [1.0, 5.0, 0.2]
    p = y + rng.standard_normal((80, 3)) * 0.7
    m = fg.metrics.R2Score(class_aggregation=aggregation)
    for s in batches(80, 30):
        m.update_state(y[s], p[s])
    expected = r2_score(y, p, multioutput=multioutput)
    assert m.result() == pytest.approx(expected, rel=1e-10)
    one = fg.metrics.R2Score(num_regressors=2)
    one.update_state(y[:, :1], p[:, :1])
    r2 = r2_score(y[:, 0], p[:, 0])
    assert one.result() == pytest.approx(1 - (1 - r2) * 79 / 77, rel=1e-10)
    with pytest.raises(ValueError, match="class_aggregation"):
        fg.metrics.R2Score(class_aggregation=None)


def test_metrics_by_name_in_compile_and_fit():
    rng = np.random.default_rng(8)
    x = rng.standard_normal((60, 4)).astype("float32")
    labels = rng.integers(0, 3, size=60)
    model = fg.Sequential([layers.Dense(3, activation="softmax", input_shape=(4,))])
    model.compile(
        optimizer="adam",
        loss="categorical_crossentropy",
        metrics=["top_k_categorical_accuracy", "f1_score", fg.metrics.F1Score(average="micro")],
    )
    history = model.fit(x, np.eye(3)[labels].astype("float32"), epochs=1, verbose=0)
    assert history.history["top_k_categorical_accuracy"] == [1.0]  # k=5 > 3 classes
    assert 0.0 <= history.history["f1_score"][0] <= 1.0
    sparse = fg.Sequential([layers.Dense(3, activation="softmax", input_shape=(4,))])
    sparse.compile(
        optimizer="adam",
        loss="sparse_categorical_crossentropy",
        metrics=[
            fg.metrics.SparseTopKCategoricalAccuracy(k=1),
            "sparse_top_k_categorical_accuracy",
        ],
    )
    sparse.fit(x, labels, epochs=1, verbose=0)
    regression = fg.Sequential([layers.Dense(1, input_shape=(4,))])
    regression.compile(optimizer="adam", loss="mse", metrics=["r2_score"])
    logs = regression.evaluate(x, x[:, :1], verbose=0, return_dict=True)
    assert "r2_score" in logs
    with pytest.raises(ValueError, match="one value per class"):
        model.compile(optimizer="adam", loss="mse", metrics=[fg.metrics.F1Score()])

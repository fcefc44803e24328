"""``sample_weight`` and ``class_weight`` in ``fit`` and ``evaluate``, with Keras 3's rule: a
batch's loss is ``sum(weight * loss) / batch_size`` (not divided by the sum of the weights), and
``metrics=`` are not weighted."""

import numpy as np
import pytest

import ferrograd as fg
from ferrograd import layers


def regression_model(units=1):
    model = fg.Sequential([layers.Dense(units, input_shape=(4,))])
    model.compile(optimizer=fg.optimizers.SGD(learning_rate=0.1), loss="mse", metrics=["mae"])
    return model


def classifier(loss="sparse_categorical_crossentropy", metrics=("accuracy",)):
    model = fg.Sequential(
        [
            layers.Dense(8, activation="tanh", input_shape=(4,)),
            layers.Dense(3, activation="softmax"),
        ]
    )
    model.compile(optimizer=fg.optimizers.SGD(learning_rate=0.1), loss=loss, metrics=list(metrics))
    return model


@pytest.fixture
def data(rng):
    x = rng.standard_normal((24, 4)).astype("float64")
    y = rng.standard_normal((24, 1)).astype("float64")
    w = rng.uniform(0.0, 3.0, 24)
    return x, y, w


def test_weighted_mse_is_the_weighted_sum_over_the_batch_size(data):
    x, y, w = data
    model = regression_model()
    per_sample = ((model.predict(x, verbose=0) - y) ** 2).mean(axis=-1)
    expected = float((w * per_sample).sum() / len(x))
    # Not the weighted mean (divided by the sum of the weights), which differs here.
    assert abs(expected - float((w * per_sample).sum() / w.sum())) > 1e-3
    whole = model.evaluate(x, y, sample_weight=w, batch_size=24, verbose=0, return_dict=True)
    assert whole["loss"] == pytest.approx(expected, rel=1e-6)
    # In batches of 5 (5, 5, 5, 5, 4): each batch divides by its own size and the epoch mean
    # weighs batches by their size, which gives the same total.
    batched = model.evaluate(x, y, sample_weight=w, batch_size=5, verbose=0, return_dict=True)
    assert batched["loss"] == pytest.approx(expected, rel=1e-6)
    # The metrics are not weighted (Keras 3's metrics=, as opposed to weighted_metrics=).
    plain = model.evaluate(x, y, batch_size=5, verbose=0, return_dict=True)
    assert batched["mae"] == pytest.approx(plain["mae"], rel=1e-12)
    assert plain["loss"] == pytest.approx(float(per_sample.mean()), rel=1e-6)


def test_weights_of_shape_n_by_1_and_of_ones_change_nothing(data):
    x, y, w = data
    model = regression_model()
    column = model.evaluate(x, y, sample_weight=w[:, None], verbose=0)
    flat = model.evaluate(x, y, sample_weight=w, verbose=0)
    assert column == pytest.approx(flat, rel=1e-12)
    ones = model.evaluate(x, y, sample_weight=np.ones(len(x)), verbose=0)
    # float32: a sum divided by n rounds differently from the mean.
    assert ones == pytest.approx(model.evaluate(x, y, verbose=0), rel=1e-6)


@pytest.mark.parametrize("one_hot", [False, True])
def test_weighted_cross_entropy_after_softmax_matches_numpy(rng, one_hot):
    x = rng.standard_normal((30, 4))
    labels = rng.integers(0, 3, 30)
    w = rng.uniform(0.0, 2.0, 30)
    loss = "categorical_crossentropy" if one_hot else "sparse_categorical_crossentropy"
    model = classifier(loss)
    y = np.eye(3)[labels] if one_hot else labels
    probabilities = model.predict(x, verbose=0).astype(np.float64)
    per_sample = -np.log(probabilities[np.arange(30), labels])
    value = model.evaluate(x, y, sample_weight=w, batch_size=8, verbose=0, return_dict=True)
    assert value["loss"] == pytest.approx(float((w * per_sample).sum() / 30), rel=1e-5)


def test_zero_weights_on_half_the_data_step_as_the_other_half_alone(data):
    x, y, _ = data
    first = regression_model()
    second = regression_model()
    second.set_weights(first.get_weights())
    start = [v.copy() for v in first.get_weights()]
    weights = np.r_[np.ones(12), np.zeros(12)]
    first.fit(x, y, sample_weight=weights, batch_size=24, epochs=1, shuffle=False, verbose=0)
    second.fit(x[:12], y[:12], batch_size=12, epochs=1, shuffle=False, verbose=0)
    # The weighted batch divides by 24 samples, the half alone by 12: the same direction, half
    # the step.
    for a, b, s in zip(first.get_weights(), second.get_weights(), start, strict=True):
        np.testing.assert_allclose(2 * (a - s), b - s, rtol=1e-6, atol=1e-7)
        assert np.abs(b - s).max() > 1e-3


@pytest.mark.parametrize("one_hot", [False, True])
def test_class_weight_trains_as_the_equivalent_sample_weight(rng, one_hot):
    x = rng.standard_normal((40, 4))
    labels = rng.integers(0, 3, 40)
    y = np.eye(3)[labels] if one_hot else labels
    loss = "categorical_crossentropy" if one_hot else "sparse_categorical_crossentropy"
    class_weight = {0: 0.5, 2: 4.0}  # class 1 left out: weight 1
    by_class, by_sample = classifier(loss), classifier(loss)
    initial = by_class.get_weights()
    by_sample.set_weights(initial)
    fg.set_seed(5)
    h1 = by_class.fit(x, y, class_weight=class_weight, batch_size=8, epochs=2, verbose=0)
    fg.set_seed(5)
    sample_weight = np.array([class_weight.get(int(c), 1.0) for c in labels])
    h2 = by_sample.fit(x, y, sample_weight=sample_weight, batch_size=8, epochs=2, verbose=0)
    assert h1.history["loss"] == h2.history["loss"]
    for a, b in zip(by_class.get_weights(), by_sample.get_weights(), strict=True):
        np.testing.assert_array_equal(a, b)
    unweighted = classifier(loss)
    unweighted.set_weights(initial)
    fg.set_seed(5)
    plain = unweighted.fit(x, y, batch_size=8, epochs=1, verbose=0).history["loss"][0]
    assert abs(h1.history["loss"][0] - plain) > 1e-3


def test_binary_class_weight_of_a_sigmoid_output(rng):
    x = rng.standard_normal((20, 4))
    y = (x[:, 0] > 0).astype("float64")
    model = fg.Sequential([layers.Dense(1, activation="sigmoid", input_shape=(4,))])
    model.compile(optimizer="sgd", loss="binary_crossentropy")
    p = model.predict(x, verbose=0)[:, 0].astype(np.float64)
    per_sample = -(y * np.log(p) + (1 - y) * np.log(1 - p))
    w = np.where(y == 1, 3.0, 1.0)
    value = model.evaluate(x, y, sample_weight=w, verbose=0)
    assert value == pytest.approx(float((w * per_sample).sum() / 20), rel=1e-5)
    with pytest.raises(ValueError, match=r"class_weight has the class 2.*\[0, 2\)"):
        model.fit(x, y, class_weight={0: 1.0, 2: 3.0}, verbose=0)


def test_one_sgd_step_matches_the_hand_gradient_with_weights(rng):
    x = rng.standard_normal((16, 4))
    labels = rng.integers(0, 3, 16)
    w = rng.uniform(0.0, 2.0, 16)
    model = fg.Sequential(
        [layers.Dense(3, activation="softmax", input_shape=(4,), dtype="float64")]
    )
    model.compile(
        optimizer=fg.optimizers.SGD(learning_rate=0.5), loss="sparse_categorical_crossentropy"
    )
    kernel, bias = model.get_weights()
    logits = x @ kernel + bias
    p = np.exp(logits - logits.max(axis=1, keepdims=True))
    p /= p.sum(axis=1, keepdims=True)
    # d(sum(w * -log p[label]) / n) / d logits = w * (p - onehot) / n.
    grad_logits = w[:, None] * (p - np.eye(3)[labels]) / 16
    model.fit(x, labels, sample_weight=w, batch_size=16, epochs=1, verbose=0)
    new_kernel, new_bias = model.get_weights()
    np.testing.assert_allclose(new_kernel, kernel - 0.5 * x.T @ grad_logits, rtol=1e-10)
    np.testing.assert_allclose(new_bias, bias - 0.5 * grad_logits.sum(axis=0), rtol=1e-10)


def test_one_sgd_step_matches_pytorch_with_weights(rng):
    torch = pytest.importorskip("torch")
    x = rng.standard_normal((16, 4))
    labels = rng.integers(0, 3, 16)
    w = rng.uniform(0.0, 2.0, 16)
    model = fg.Sequential([layers.Dense(3, activation="softmax", input_shape=(4,))])
    model.compile(
        optimizer=fg.optimizers.SGD(learning_rate=0.5), loss="sparse_categorical_crossentropy"
    )
    kernel, bias = (v.astype(np.float64) for v in model.get_weights())
    linear = torch.nn.Linear(4, 3).double()
    with torch.no_grad():
        linear.weight.copy_(torch.from_numpy(kernel.T))
        linear.bias.copy_(torch.from_numpy(bias))
    per_sample = torch.nn.functional.cross_entropy(
        linear(torch.from_numpy(x)), torch.from_numpy(labels), reduction="none"
    )
    loss = (torch.from_numpy(w) * per_sample).sum() / 16
    loss.backward()
    with torch.no_grad():
        expected_kernel = (linear.weight - 0.5 * linear.weight.grad).numpy().T
        expected_bias = (linear.bias - 0.5 * linear.bias.grad).numpy()
    history = model.fit(x, labels, sample_weight=w, batch_size=16, epochs=1, verbose=0)
    assert history.history["loss"][0] == pytest.approx(loss.item(), rel=1e-5)
    new_kernel, new_bias = model.get_weights()
    np.testing.assert_allclose(new_kernel, expected_kernel, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(new_bias, expected_bias, rtol=1e-5, atol=1e-6)


def two_outputs():
    inputs = layers.Input(shape=(4,))
    score = layers.Dense(1, name="score")(inputs)
    kind = layers.Dense(3, activation="softmax", name="kind")(inputs)
    model = fg.Model(inputs=inputs, outputs=[score, kind])
    model.compile(
        optimizer="sgd",
        loss={"score": "mse", "kind": "sparse_categorical_crossentropy"},
        loss_weights={"score": 2.0, "kind": 1.0},
    )
    return model


def test_several_outputs_take_weights_per_output_by_list_dict_or_one_for_all(rng):
    x = rng.standard_normal((18, 4))
    score_y = rng.standard_normal((18, 1))
    kind_y = rng.integers(0, 3, 18)
    w_score, w_kind = rng.uniform(0, 2, 18), rng.uniform(0, 2, 18)
    model = two_outputs()
    score_p, kind_p = (p.astype(np.float64) for p in model.predict(x, verbose=0))
    score_l = ((score_p - score_y) ** 2).mean(axis=-1)
    kind_l = -np.log(kind_p[np.arange(18), kind_y])
    y = {"score": score_y, "kind": kind_y}
    logs = model.evaluate(
        x, y, sample_weight={"score": w_score, "kind": w_kind}, verbose=0, return_dict=True
    )
    score_loss, kind_loss = (w_score * score_l).sum() / 18, (w_kind * kind_l).sum() / 18
    assert logs["score_loss"] == pytest.approx(score_loss, rel=1e-5)
    assert logs["kind_loss"] == pytest.approx(kind_loss, rel=1e-5)
    assert logs["loss"] == pytest.approx(2.0 * score_loss + kind_loss, rel=1e-5)
    as_list = model.evaluate(x, y, sample_weight=[w_score, w_kind], verbose=0, return_dict=True)
    assert as_list == pytest.approx(logs, rel=1e-12)
    # One array serves every output (as in Keras 3).
    shared = model.evaluate(x, y, sample_weight=w_kind, verbose=0, return_dict=True)
    assert shared["score_loss"] == pytest.approx((w_kind * score_l).sum() / 18, rel=1e-5)
    # One input and two outputs train too (x comes as one array).
    history = model.fit(x, y, sample_weight=[w_score, w_kind], epochs=2, verbose=0)
    assert np.isfinite(history.history["loss"]).all() and len(history.history["kind_loss"]) == 2
    assert [p.shape for p in model.predict(x, verbose=0)] == [(18, 1), (18, 3)]
    with pytest.raises(ValueError, match="class_weight is for models with one output"):
        model.fit(x, y, class_weight={0: 1.0}, verbose=0)
    with pytest.raises(ValueError, match=r"sample_weight names outputs \['other'\]"):
        model.fit(x, y, sample_weight={"other": w_kind}, verbose=0)


def test_batches_of_x_y_and_weights(data):
    x, y, w = data
    model = regression_model()

    def batches():
        for start in range(0, 24, 6):
            part = slice(start, start + 6)
            yield x[part], y[part], w[part]

    from_batches = model.evaluate(batches(), verbose=0)
    assert from_batches == pytest.approx(
        model.evaluate(x, y, sample_weight=w, batch_size=6, verbose=0), rel=1e-12
    )
    with pytest.raises(ValueError, match="sample_weight is for arrays"):
        model.fit(batches(), sample_weight=w, verbose=0)

    class Weighted(fg.utils.PyDataset):
        def __len__(self):
            return 4

        def __getitem__(self, index):
            part = slice(6 * index, 6 * index + 6)
            return x[part], y[part], w[part]

    assert model.evaluate(Weighted(), verbose=0) == pytest.approx(from_batches, rel=1e-12)


def test_validation_split_splits_the_weights_too(data):
    x, y, w = data
    model = regression_model()
    history = model.fit(
        x, y, sample_weight=w, validation_split=0.25, epochs=1, shuffle=False, verbose=0
    )
    expected = model.evaluate(x[18:], y[18:], sample_weight=w[18:], verbose=0, return_dict=True)[
        "loss"
    ]
    assert history.history["val_loss"][0] == pytest.approx(expected, rel=1e-12)


def test_bad_weights_are_refused_naming_the_argument_and_shapes(data, rng):
    x, y, w = data
    model = regression_model()
    with pytest.raises(
        ValueError,
        match=r"sample_weight must hold one weight per sample: "
        r"expected shape \(24,\), received shape \(23,\)",
    ):
        model.fit(x, y, sample_weight=w[:23], verbose=0)
    with pytest.raises(ValueError, match=r"sample_weight.*shape \(24, 3\)"):
        model.evaluate(x, y, sample_weight=np.ones((24, 3)), verbose=0)
    with pytest.raises(ValueError, match="sample_weight contains a non-finite value"):
        model.fit(x, y, sample_weight=np.r_[w[:-1], np.nan], verbose=0)
    with pytest.raises(ValueError, match="class_weight and sample_weight cannot be given"):
        model.fit(x, y, sample_weight=w, class_weight={0: 1.0}, verbose=0)
    labels = rng.integers(0, 3, 24)
    clf = classifier()
    with pytest.raises(ValueError, match=r"class_weight has the class 3.*\[0, 3\)"):
        clf.fit(x, labels, class_weight={0: 1.0, 3: 2.0}, verbose=0)
    with pytest.raises(ValueError, match=r"class_weight has the class -1"):
        clf.fit(x, labels, class_weight={-1: 2.0}, verbose=0)
    with pytest.raises(ValueError, match="class_weight keys must be integer class indices"):
        clf.fit(x, labels, class_weight={"a": 2.0}, verbose=0)
    with pytest.raises(ValueError, match="class_weight must be a dict"):
        clf.fit(x, labels, class_weight=[1.0, 2.0, 3.0], verbose=0)
    with pytest.raises(ValueError, match="weighted_metrics"):
        clf.compile(optimizer="sgd", loss="mse", weighted_metrics=["accuracy"])

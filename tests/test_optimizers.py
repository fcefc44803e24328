"""Optimizers: every update rule step by step against a plain numpy implementation of its
published formula (Keras 3's), in float64 and float32; clipping, weight decay, learning-rate
handling, aliases, argument errors, slot save/load and thread-count independence."""

import math
from pathlib import Path

import numpy as np
import pytest

import ferrograd as fg

SHAPES = [(3, 4), (5,), (2, 3, 2), (1,)]
STEPS = 6


# -- the reference: Keras 3's update rules, written out in numpy -------------------------------


class Reference:
    """One optimizer in numpy: the base's clipping and weight decay, then the rule."""

    def __init__(self, rule, lr, hp, weight_decay=None, clipnorm=None, clipvalue=None,
                 global_clipnorm=None):  # fmt: skip
        self.rule, self.lr, self.hp = rule, lr, hp
        self.weight_decay = weight_decay
        self.clipnorm, self.clipvalue, self.global_clipnorm = clipnorm, clipvalue, global_clipnorm
        self.slots = {}
        self.iterations = 0

    def lr_at(self, step):
        return self.lr(step) if callable(self.lr) else self.lr

    def clip(self, grads):
        if self.clipnorm is not None:
            out = []
            for g in grads:
                norm = math.sqrt(float(np.sum(g.astype(np.float64) ** 2)))
                out.append(g * (self.clipnorm / max(norm, self.clipnorm)))
            return out
        if self.global_clipnorm is not None:
            norm = math.sqrt(sum(float(np.sum(g.astype(np.float64) ** 2)) for g in grads))
            scale = self.global_clipnorm * min(1.0 / norm, 1.0 / self.global_clipnorm)
            return [g * g.dtype.type(scale) for g in grads]
        if self.clipvalue is not None:
            return [np.clip(g, -self.clipvalue, self.clipvalue) for g in grads]
        return grads

    def apply(self, params, grads):
        lr = self.lr_at(self.iterations)
        t = self.iterations + 1
        grads = self.clip(grads)
        out = []
        for i, (w, g) in enumerate(zip(params, grads, strict=True)):
            dt = w.dtype.type
            if self.weight_decay is not None:
                w = w - w * dt(self.weight_decay * lr)
            out.append(self.update(i, w, g, dt(lr), t, dt))
        self.iterations += 1
        return out

    def slot(self, i, name, like, value=0.0):
        return self.slots.setdefault((i, name), np.full_like(like, value))

    def update(self, i, w, g, lr, t, dt):
        hp = self.hp
        if self.rule == "sgd":
            mu = hp.get("momentum", 0.0)
            if mu == 0:
                return w - g * lr
            m = self.slot(i, "m", w)
            m = m * dt(mu) - g * lr
            self.slots[(i, "m")] = m
            if hp.get("nesterov", False):
                return w + (m * dt(mu) - g * lr)
            return w + m
        if self.rule in ("adam", "adamw"):
            b1, b2 = hp.get("beta_1", 0.9), hp.get("beta_2", 0.999)
            eps = hp.get("epsilon", 1e-7)
            m = self.slot(i, "m", w)
            v = self.slot(i, "v", w)
            m = m + (g - m) * dt(1 - b1)
            v = v + (g * g - v) * dt(1 - b2)
            self.slots[(i, "m")], self.slots[(i, "v")] = m, v
            alpha = dt(float(lr) * math.sqrt(1 - b2**t) / (1 - b1**t))
            if hp.get("amsgrad", False):
                vh = np.maximum(self.slot(i, "vh", w), v)
                self.slots[(i, "vh")] = vh
                v = vh
            return w - m * alpha / (np.sqrt(v) + dt(eps))
        if self.rule == "rmsprop":
            rho, mu = hp.get("rho", 0.9), hp.get("momentum", 0.0)
            eps = dt(hp.get("epsilon", 1e-7))
            v = dt(rho) * self.slot(i, "v", w) + dt(1 - rho) * g * g
            self.slots[(i, "v")] = v
            if hp.get("centered", False):
                a = dt(rho) * self.slot(i, "a", w) + dt(1 - rho) * g
                self.slots[(i, "a")] = a
                denominator = v - a * a + eps
            else:
                denominator = v + eps
            increment = lr * g / np.sqrt(denominator)
            if mu > 0:
                mom = dt(mu) * self.slot(i, "mom", w) + increment
                self.slots[(i, "mom")] = mom
                return w - mom
            return w - increment
        if self.rule == "adagrad":
            acc = self.slot(i, "acc", w, hp.get("initial_accumulator_value", 0.1)) + g * g
            self.slots[(i, "acc")] = acc
            return w - lr * g / np.sqrt(acc + dt(hp.get("epsilon", 1e-7)))
        if self.rule == "adadelta":
            rho, eps = hp.get("rho", 0.95), dt(hp.get("epsilon", 1e-7))
            ag = dt(rho) * self.slot(i, "ag", w) + dt(1 - rho) * g * g
            ad = self.slot(i, "ad", w)
            delta = -(np.sqrt(ad + eps) * g) / np.sqrt(ag + eps)
            self.slots[(i, "ag")] = ag
            self.slots[(i, "ad")] = dt(rho) * ad + dt(1 - rho) * delta * delta
            return w + lr * delta
        raise AssertionError(self.rule)


CLASSES = {
    "sgd": fg.optimizers.SGD,
    "adam": fg.optimizers.Adam,
    "adamw": fg.optimizers.AdamW,
    "rmsprop": fg.optimizers.RMSprop,
    "adagrad": fg.optimizers.Adagrad,
    "adadelta": fg.optimizers.Adadelta,
}

VARIANTS = [
    ("sgd", 0.05, {}),
    ("sgd", 0.05, {"momentum": 0.9}),
    ("sgd", 0.05, {"momentum": 0.9, "nesterov": True}),
    ("adam", 0.01, {}),
    ("adam", 0.01, {"amsgrad": True}),
    ("adam", 0.01, {"beta_1": 0.8, "beta_2": 0.99, "epsilon": 1e-3}),
    ("adamw", 0.01, {}),
    ("adamw", 0.01, {"amsgrad": True, "weight_decay": 0.1}),
    ("rmsprop", 0.01, {}),
    ("rmsprop", 0.01, {"momentum": 0.9}),
    ("rmsprop", 0.01, {"centered": True}),
    ("rmsprop", 0.01, {"momentum": 0.5, "centered": True, "rho": 0.8}),
    ("adagrad", 0.1, {}),
    ("adagrad", 0.1, {"initial_accumulator_value": 0.0, "epsilon": 1e-3}),
    ("adadelta", 1.0, {}),
    ("adadelta", 1.0, {"rho": 0.9, "epsilon": 1e-6}),
]

TOL = {np.float64: {"rtol": 1e-12, "atol": 1e-14}, np.float32: {"rtol": 2e-5, "atol": 2e-6}}


def make_problem(dtype, seed=0, steps=STEPS):
    rng = np.random.default_rng(seed)
    params = [rng.normal(size=s).astype(dtype) for s in SHAPES]
    # Gradients of changing scale, so that AMSGrad's maximum and clipping both matter.
    grads = [
        [(rng.normal(size=s) * (0.2 + 2.0 * (k % 3))).astype(dtype) for s in SHAPES]
        for k in range(steps)
    ]
    return params, grads


def run_both(rule, lr, hp, dtype, base=None, grads_as="tensor", steps=STEPS):
    base = base or {}
    params, grads = make_problem(dtype, steps=steps)
    ref = Reference(rule, lr, {**hp}, **base)
    if rule == "adamw":
        ref.weight_decay = hp.get("weight_decay", 0.004)
    kwargs = {k: v for k, v in hp.items()}
    opt = CLASSES[rule](learning_rate=lr, **kwargs, **base)
    tensors = [fg.tensor(p, dtype=dtype.__name__, requires_grad=True) for p in params]
    expected = [p.copy() for p in params]
    history = []
    for step_grads in grads:
        expected = ref.apply(expected, step_grads)
        if grads_as == "tensor":
            fed = [fg.tensor(g, dtype=dtype.__name__) for g in step_grads]
        else:
            fed = step_grads
        opt.apply_gradients(zip(fed, tensors, strict=True))
        history.append(([t.numpy() for t in tensors], [e.copy() for e in expected]))
    return opt, history


@pytest.mark.parametrize("dtype", [np.float64, np.float32], ids=["float64", "float32"])
@pytest.mark.parametrize(("rule", "lr", "hp"), VARIANTS, ids=lambda v: str(v))
def test_rule_matches_its_formula_step_by_step(rule, lr, hp, dtype):
    opt, history = run_both(rule, lr, hp, dtype)
    for step, (got, expected) in enumerate(history):
        for i, (g, e) in enumerate(zip(got, expected, strict=True)):
            assert g.dtype == dtype
            np.testing.assert_allclose(g, e, **TOL[dtype], err_msg=f"step {step}, param {i}")
    assert opt.iterations == STEPS
    # The parameters really moved.
    assert not np.allclose(history[-1][0][0], make_problem(dtype)[0][0])


BASE_VARIANTS = [
    {"weight_decay": 0.1},
    {"clipnorm": 0.5},
    {"global_clipnorm": 0.7},
    {"clipvalue": 0.3},
    {"clipnorm": 1.0, "weight_decay": 0.05},
]


@pytest.mark.parametrize("dtype", [np.float64, np.float32], ids=["float64", "float32"])
@pytest.mark.parametrize("base", BASE_VARIANTS, ids=lambda v: str(v))
@pytest.mark.parametrize(
    ("rule", "lr", "hp"),
    [VARIANTS[1], VARIANTS[3], VARIANTS[11], VARIANTS[12], VARIANTS[14]],
    ids=lambda v: str(v),
)
def test_clipping_and_weight_decay(rule, lr, hp, base, dtype):
    _, history = run_both(rule, lr, hp, dtype, base=base)
    for got, expected in history:
        for g, e in zip(got, expected, strict=True):
            np.testing.assert_allclose(g, e, **TOL[dtype])


def test_numpy_gradients_are_converted_to_the_parameter_dtype():
    _, history = run_both("adam", 0.01, {}, np.float32, grads_as="numpy")
    for got, expected in history:
        for g, e in zip(got, expected, strict=True):
            np.testing.assert_allclose(g, e, **TOL[np.float32])
    w = fg.tensor([1.0, 2.0])
    fg.optimizers.SGD(learning_rate=1.0).apply_gradients([(np.array([0.5, 0.25]), w)])
    np.testing.assert_allclose(w.numpy(), [0.5, 1.75])
    assert w.dtype == "float32" or str(w.dtype) == "float32"


def test_clipnorm_by_hand():
    w = fg.tensor([0.0, 0.0], dtype="float64")
    fg.optimizers.SGD(learning_rate=1.0, clipnorm=1.0).apply_gradients([(np.array([3.0, 4.0]), w)])
    np.testing.assert_allclose(w.numpy(), [-0.6, -0.8])


def test_only_one_clip_argument():
    with pytest.raises(ValueError, match="Only one of"):
        fg.optimizers.SGD(clipnorm=1.0, clipvalue=0.5)


# -- the hand-written loop -----------------------------------------------------------------------


def test_hand_written_training_loop_reduces_the_loss():
    rng = np.random.default_rng(0)
    x = fg.tensor(rng.normal(size=(64, 3)))
    true_w = np.array([[1.5], [-2.0], [0.5]], dtype=np.float32)
    y = fg.tensor(x.numpy() @ true_w + 0.3)
    w = fg.tensor(np.zeros((3, 1)), requires_grad=True)
    b = fg.tensor(np.zeros((1,)), requires_grad=True)
    trainable_weights = [w, b]
    opt = fg.optimizers.Adam(learning_rate=0.05)
    losses = []
    for _ in range(150):
        for v in trainable_weights:
            v.zero_grad()
        loss = ((x @ w + b - y) ** 2).mean()
        loss.backward()
        grads = [v.grad for v in trainable_weights]
        opt.apply_gradients(zip(grads, trainable_weights, strict=True))
        losses.append(loss.item())
    assert opt.iterations == 150
    assert losses[-1] < 1e-2 * losses[0]
    np.testing.assert_allclose(w.numpy(), true_w, atol=0.05)


def test_none_gradients_are_skipped():
    a = fg.tensor([1.0], requires_grad=True)
    b = fg.tensor([1.0], requires_grad=True)
    opt = fg.optimizers.SGD(learning_rate=0.5)
    with pytest.warns(UserWarning, match="Gradients do not exist"):
        opt.apply_gradients([(fg.tensor([1.0]), a), (None, b)])
    assert a.numpy().tolist() == [0.5]
    assert b.numpy().tolist() == [1.0]
    with pytest.raises(ValueError, match="No gradients provided"):
        opt.apply_gradients([(None, a), (None, b)])
    assert opt.iterations == 1


def test_apply_without_variables_reuses_the_first_ones():
    w = fg.tensor([1.0])
    opt = fg.optimizers.SGD(learning_rate=0.5)
    with pytest.raises(ValueError, match="without `variables`"):
        opt.apply([fg.tensor([1.0])])
    opt.apply([fg.tensor([1.0])], [w])
    opt.apply([fg.tensor([1.0])])
    assert w.numpy().tolist() == [0.0]
    assert opt.variables == [w] or opt.variables[0] is w


# -- learning rate and iterations ----------------------------------------------------------------


def test_learning_rate_get_and_set():
    opt = fg.optimizers.Adam()
    assert opt.learning_rate == pytest.approx(0.001)
    opt.learning_rate = 0.5
    assert opt.learning_rate == 0.5
    assert opt.get_config()["learning_rate"] == 0.5
    schedule = fg.optimizers.schedules.ExponentialDecay(1.0, decay_steps=1, decay_rate=0.5)
    opt = fg.optimizers.SGD(learning_rate=schedule)
    assert opt.learning_rate == 1.0
    w = fg.tensor([0.0], dtype="float64")
    for _ in range(3):
        opt.apply_gradients([(np.array([1.0]), w)])
    # Steps used rates 1, 0.5 and 0.25; the next one is 0.125.
    np.testing.assert_allclose(w.numpy(), [-1.75])
    assert opt.learning_rate == pytest.approx(0.125)
    # A float replaces the schedule.
    opt.learning_rate = 0.01
    opt.apply_gradients([(np.array([1.0]), w)])
    np.testing.assert_allclose(w.numpy(), [-1.76])
    assert opt.learning_rate == 0.01
    # And a schedule replaces a float, evaluated at the current iteration.
    opt.learning_rate = schedule
    assert opt.learning_rate == pytest.approx(0.5**4)
    with pytest.raises(ValueError, match="learning_rate=-1"):
        opt.learning_rate = -1.0
    with pytest.raises(ValueError, match="learning_rate"):
        fg.optimizers.SGD(learning_rate="fast")


def test_iterations_property():
    opt = fg.optimizers.SGD()
    assert opt.iterations == 0
    opt.iterations = 7
    assert opt.iterations == 7
    with pytest.raises(ValueError, match="-1"):
        opt.iterations = -1


def test_python_schedule_is_evaluated_each_step():
    class Halving(fg.optimizers.schedules.LearningRateSchedule):
        def __init__(self, initial):
            self.initial = initial
            self.calls = []

        def __call__(self, step):
            self.calls.append(step)
            return self.initial / 2**step

        def get_config(self):
            return {"initial": self.initial}

    schedule = Halving(1.0)
    opt = fg.optimizers.SGD(learning_rate=schedule)
    w = fg.tensor([0.0], dtype="float64")
    for _ in range(4):
        opt.apply_gradients([(np.array([1.0]), w)])
    np.testing.assert_allclose(w.numpy(), [-(1 + 0.5 + 0.25 + 0.125)])
    assert schedule.calls[-4:] == [0, 1, 2, 3]
    assert opt.learning_rate == pytest.approx(1 / 16)
    config = opt.get_config()
    assert config["learning_rate"] == {"class_name": "Halving", "config": {"initial": 1.0}}
    again = fg.optimizers.SGD.from_config(config, custom_objects={"Halving": Halving})
    assert again.learning_rate == 1.0

    # A loop that drives `_core` itself (as `fit` does) syncs the rate before each step.
    assert opt._uses_python_schedule
    opt._sync_learning_rate()
    assert opt._core.learning_rate == pytest.approx(1 / 16)
    assert not fg.optimizers.SGD()._uses_python_schedule

    # A subclass of a built-in schedule that overrides __call__ is evaluated in Python too.
    class Doubled(fg.optimizers.schedules.StepDecay):
        def __call__(self, step):
            return 2 * super().__call__(step)

    opt = fg.optimizers.SGD(learning_rate=Doubled(0.5, step_size=1, gamma=0.5))
    w = fg.tensor([0.0], dtype="float64")
    opt.apply_gradients([(np.array([1.0]), w)])
    opt.apply_gradients([(np.array([1.0]), w)])
    np.testing.assert_allclose(w.numpy(), [-1.5])

    # So is a callable without arguments (Keras accepts one).
    rate = [0.25]
    opt = fg.optimizers.SGD(learning_rate=lambda: rate[0])
    w = fg.tensor([0.0], dtype="float64")
    opt.apply_gradients([(np.array([1.0]), w)])
    rate[0] = 0.5
    opt.apply_gradients([(np.array([1.0]), w)])
    np.testing.assert_allclose(w.numpy(), [-0.75])


# -- aliases and configs -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "cls"),
    [
        ("adam", fg.optimizers.Adam),
        ("Adam", fg.optimizers.Adam),
        ("ADAM", fg.optimizers.Adam),
        ("sgd", fg.optimizers.SGD),
        ("SGD", fg.optimizers.SGD),
        ("rmsprop", fg.optimizers.RMSprop),
        ("RMSprop", fg.optimizers.RMSprop),
        ("adamw", fg.optimizers.AdamW),
        ("AdamW", fg.optimizers.AdamW),
        ("adagrad", fg.optimizers.Adagrad),
        ("Adadelta", fg.optimizers.Adadelta),
    ],
)
def test_get_by_name(name, cls):
    opt = fg.optimizers.get(name)
    assert type(opt) is cls


def test_get_passes_instances_and_reads_dicts():
    opt = fg.optimizers.SGD(momentum=0.5)
    assert fg.optimizers.get(opt) is opt
    assert fg.optimizers.get(None) is None
    again = fg.optimizers.get({"class_name": "SGD", "config": {"momentum": 0.25}})
    assert isinstance(again, fg.optimizers.SGD) and again.momentum == 0.25
    round_trip = fg.optimizers.deserialize(fg.optimizers.serialize(opt))
    assert round_trip.get_config() == opt.get_config()


def test_get_unknown_name_lists_the_known_ones():
    with pytest.raises(ValueError, match="sophia") as info:
        fg.optimizers.get("sophia")
    message = str(info.value)
    for known in ("adam", "sgd", "rmsprop", "adamw", "adagrad", "adadelta"):
        assert known in message


def test_one_registered_class_per_file_named_as_its_rust_rule():
    from ferrograd.optimizers.optimizer import _REGISTRY

    package = Path(fg.optimizers.__file__).parent
    files = {p.stem for p in package.glob("*.py")} - {"__init__", "optimizer"}
    assert set(_REGISTRY) == files
    rust = Path(__file__).parents[1] / "src" / "optimizers"
    for name, cls in _REGISTRY.items():
        assert cls.__module__ == f"ferrograd.optimizers.{name}"
        assert cls()._rule["name"] == name
        assert (rust / f"{name}.rs").is_file(), name


def test_a_user_subclass_does_not_shadow_a_built_in_one():
    class Adam(fg.optimizers.Adam):
        pass

    assert type(fg.optimizers.get("adam")) is fg.optimizers.Adam
    custom = fg.optimizers.deserialize(
        fg.optimizers.serialize(Adam()), custom_objects={"Adam": Adam}
    )
    assert type(custom) is Adam


def test_keras_defaults_and_configs():
    cases = {
        fg.optimizers.SGD: {"learning_rate": 0.01, "momentum": 0.0, "nesterov": False},
        fg.optimizers.Adam: {
            "learning_rate": 0.001,
            "beta_1": 0.9,
            "beta_2": 0.999,
            "epsilon": 1e-7,
            "amsgrad": False,
        },
        fg.optimizers.AdamW: {"learning_rate": 0.001, "weight_decay": 0.004, "epsilon": 1e-7},
        fg.optimizers.RMSprop: {
            "learning_rate": 0.001,
            "rho": 0.9,
            "momentum": 0.0,
            "epsilon": 1e-7,
            "centered": False,
        },
        fg.optimizers.Adagrad: {
            "learning_rate": 0.001,
            "initial_accumulator_value": 0.1,
            "epsilon": 1e-7,
        },
        fg.optimizers.Adadelta: {"learning_rate": 0.001, "rho": 0.95, "epsilon": 1e-7},
    }
    for cls, expected in cases.items():
        config = cls().get_config()
        for key, value in expected.items():
            assert config[key] == pytest.approx(value), (cls, key)
        for key in ("name", "weight_decay", "clipnorm", "clipvalue", "global_clipnorm"):
            assert key in config
        again = cls.from_config(config)
        assert again.get_config() == config
    assert fg.optimizers.SGD().name == "SGD"
    assert fg.optimizers.Adam().name == "adam"


def test_schedule_in_config_round_trips():
    schedule = fg.optimizers.schedules.CosineDecay(0.1, 100, alpha=0.1)
    opt = fg.optimizers.Adam(learning_rate=schedule, clipnorm=1.0)
    config = opt.get_config()
    assert config["learning_rate"]["class_name"] == "CosineDecay"
    again = fg.optimizers.Adam.from_config(config)
    assert again.get_config() == config
    assert again._core_config() == opt._core_config()


# -- argument errors -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("cls", "kwargs", "echo"),
    [
        (fg.optimizers.Adam, {"learning_rate": -1.0}, "learning_rate=-1"),
        (fg.optimizers.SGD, {"learning_rate": float("nan")}, "learning_rate=nan"),
        (fg.optimizers.Adam, {"beta_1": 1.0}, "beta_1=1.0"),
        (fg.optimizers.Adam, {"beta_2": -0.1}, "beta_2=-0.1"),
        (fg.optimizers.Adam, {"epsilon": 0.0}, "epsilon=0.0"),
        (fg.optimizers.AdamW, {"epsilon": -1e-8}, "epsilon=-1e-8"),
        (fg.optimizers.SGD, {"momentum": 1.5}, "momentum=1.5"),
        (fg.optimizers.SGD, {"momentum": -0.5}, "momentum=-0.5"),
        (fg.optimizers.RMSprop, {"rho": 1.0}, "rho=1.0"),
        (fg.optimizers.RMSprop, {"epsilon": 0}, "epsilon=0.0"),
        (fg.optimizers.Adagrad, {"initial_accumulator_value": -0.1}, "=-0.1"),
        (fg.optimizers.Adadelta, {"rho": 2.0}, "rho=2.0"),
        (fg.optimizers.SGD, {"weight_decay": -0.1}, "weight_decay=-0.1"),
        (fg.optimizers.SGD, {"clipnorm": 0.0}, "clipnorm=0.0"),
        (fg.optimizers.SGD, {"clipvalue": -1.0}, "clipvalue=-1.0"),
        (fg.optimizers.AdamW, {"weight_decay": None}, "weight_decay=None"),
        (fg.optimizers.Adam, {"decay": 0.1}, "not recognized"),
    ],
)
def test_bad_hyperparameters_echo_the_value(cls, kwargs, echo):
    with pytest.raises(ValueError) as info:
        cls(**kwargs)
    assert echo in str(info.value)


def test_hyperparameters_of_the_wrong_type():
    with pytest.raises(TypeError, match="beta_1"):
        fg.optimizers.Adam(beta_1="0.9")


def test_mismatched_gradients_change_nothing():
    a = fg.tensor(np.ones((2, 3)), requires_grad=True)
    b = fg.tensor(np.ones((4,)), requires_grad=True)
    opt = fg.optimizers.Adam(learning_rate=0.1)
    with pytest.raises(ValueError, match="gradients for 2 variables"):
        opt.apply([fg.tensor(np.ones((2, 3)))], [a, b])
    with pytest.raises(ValueError, match=r"\(3, 2\)|\[3, 2\]") as info:
        opt.apply_gradients([(fg.tensor(np.ones((2, 3))), a), (fg.tensor(np.ones((3, 2))), b)])
    assert "[4]" in str(info.value)
    with pytest.raises(ValueError, match="float64") as info:
        opt.apply_gradients([(fg.tensor(np.ones((2, 3)), dtype="float64"), a)])
    assert "float32" in str(info.value)
    with pytest.raises(TypeError, match="Tensor"):
        opt.apply_gradients([(np.ones((2, 3)), np.ones((2, 3)))])
    assert opt.iterations == 0
    assert np.all(a.numpy() == 1) and np.all(b.numpy() == 1)
    store = {}
    opt.save_own_variables(store)
    assert list(store) == ["iterations"]


# -- slot variables ------------------------------------------------------------------------------


def train(opt, params, steps, seed=3):
    rng = np.random.default_rng(seed)
    for _ in range(steps):
        grads = [rng.normal(size=p.shape).astype(np.float32) for p in params]
        opt.apply_gradients(zip(grads, params, strict=True))


def test_slots_save_and_load_round_trip():
    init = [np.ones((3, 2), np.float32), np.zeros((4,), np.float32)]
    params = [fg.tensor(p) for p in init]
    opt = fg.optimizers.Adam(learning_rate=0.1, amsgrad=True)
    train(opt, params, 3)
    store = {}
    opt.save_own_variables(store)
    assert sorted(store) == sorted(
        ["iterations"]
        + [f"{i}/{s}" for i in range(2) for s in ("momentum", "velocity", "velocity_hat")]
    )
    assert int(store["iterations"]) == 3

    # A fresh optimizer with the saved state continues exactly as the original one.
    copies = [fg.tensor(p.numpy()) for p in params]
    fresh = fg.optimizers.Adam(learning_rate=0.1, amsgrad=True)
    fresh.build(copies)
    fresh.load_own_variables(store)
    assert fresh.iterations == 3
    train(opt, params, 2, seed=9)
    train(fresh, copies, 2, seed=9)
    for p, c in zip(params, copies, strict=True):
        np.testing.assert_array_equal(p.numpy(), c.numpy())


def test_rejected_slot_load_changes_nothing():
    params = [fg.tensor(np.ones((3, 2), np.float32)), fg.tensor(np.zeros((4,), np.float32))]
    opt = fg.optimizers.RMSprop(momentum=0.9, centered=True)
    train(opt, params, 2)
    store = {}
    opt.save_own_variables(store)
    before = dict(store)

    bad = dict(store)
    bad["1/velocity"] = np.zeros((5,), np.float32)
    with pytest.raises(ValueError, match=r"\[4\]"):
        opt.load_own_variables({**bad, "iterations": np.asarray(100)})
    bad = dict(store)
    del bad["0/momentum"]
    with pytest.raises(ValueError, match="needs all of its slots"):
        opt.load_own_variables(bad)
    bad = dict(store)
    bad["0/nope"] = np.zeros((3, 2), np.float32)
    with pytest.raises(ValueError, match="nope"):
        opt.load_own_variables(bad)
    bad = dict(store)
    bad["7/velocity"] = np.zeros((3, 2), np.float32)
    with pytest.raises(ValueError, match="7/velocity"):
        opt.load_own_variables(bad)
    bad = dict(store)
    bad["0/velocity"] = np.zeros((3, 2), np.float64)
    with pytest.raises(ValueError, match="float64"):
        opt.load_own_variables(bad)

    after = {}
    opt.save_own_variables(after)
    assert opt.iterations == 2
    assert sorted(after) == sorted(before)
    for key in before:
        np.testing.assert_array_equal(after[key], before[key])


# -- determinism ---------------------------------------------------------------------------------


@pytest.mark.parametrize("cls", [fg.optimizers.Adam, fg.optimizers.RMSprop])
def test_bit_identical_on_one_and_two_threads(cls):
    n = (1 << 20) + 4097
    rng = np.random.default_rng(5)
    init = rng.normal(size=n).astype(np.float32)
    grads = [rng.normal(size=n).astype(np.float32) for _ in range(3)]
    original = fg.get_num_threads()
    results = []
    try:
        for threads in (1, 2, 1):
            fg.set_num_threads(threads)
            w = fg.tensor(init)
            opt = cls(learning_rate=1e-3, global_clipnorm=100.0, weight_decay=0.01)
            for g in grads:
                opt.apply_gradients([(fg.tensor(g), w)])
            results.append(w.numpy())
    finally:
        fg.set_num_threads(original)
    assert results[0].tobytes() == results[1].tobytes() == results[2].tobytes()
    assert not np.array_equal(results[0], init)


def test_docstring_examples_run():
    import doctest
    import importlib

    schedules = [
        "exponential_decay",
        "piecewise_constant_decay",
        "cosine_decay",
        "inverse_time_decay",
        "polynomial_decay",
        "step_decay",
    ]
    names = ["sgd", "adam", "adamw", "rmsprop", "adagrad", "adadelta"]
    names += [f"schedules.{name}" for name in schedules]
    for name in names:
        module = importlib.import_module(f"ferrograd.optimizers.{name}")
        result = doctest.testmod(module, extraglobs={"fg": fg})
        assert result.attempted > 0 and result.failed == 0, name
    assert doctest.testmod(fg.optimizers, extraglobs={"fg": fg}).failed == 0


# -- PyTorch, where it is installed --------------------------------------------------------------


def test_matches_torch_sgd_momentum_and_adam():
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(11)
    init = [rng.normal(size=s) for s in SHAPES]
    grads = [[rng.normal(size=s) for s in SHAPES] for _ in range(STEPS)]

    def trajectory(make_ours, make_torch):
        ours = [fg.tensor(p, dtype="float64") for p in init]
        theirs = [torch.tensor(p, dtype=torch.float64, requires_grad=True) for p in init]
        opt, topt = make_ours(), make_torch(theirs)
        for step_grads in grads:
            opt.apply_gradients(zip([g.copy() for g in step_grads], ours, strict=True))
            for t, g in zip(theirs, step_grads, strict=True):
                t.grad = torch.tensor(g)
            topt.step()
            for o, t in zip(ours, theirs, strict=True):
                yield o.numpy(), t.detach().numpy()

    # Keras's momentum keeps -lr * velocity, PyTorch's keeps velocity: the same trajectory.
    for o, t in trajectory(
        lambda: fg.optimizers.SGD(learning_rate=0.05, momentum=0.9),
        lambda ps: torch.optim.SGD(ps, lr=0.05, momentum=0.9),
    ):
        np.testing.assert_allclose(o, t, rtol=1e-12, atol=1e-14)
    for o, t in trajectory(
        lambda: fg.optimizers.SGD(learning_rate=0.05, momentum=0.9, nesterov=True),
        lambda ps: torch.optim.SGD(ps, lr=0.05, momentum=0.9, nesterov=True),
    ):
        np.testing.assert_allclose(o, t, rtol=1e-12, atol=1e-14)
    # Keras adds epsilon to sqrt(v) before the bias correction, PyTorch after: with a tiny
    # epsilon the two agree closely.
    for o, t in trajectory(
        lambda: fg.optimizers.Adam(learning_rate=0.01, epsilon=1e-12),
        lambda ps: torch.optim.Adam(ps, lr=0.01, eps=1e-12),
    ):
        np.testing.assert_allclose(o, t, rtol=1e-7, atol=1e-9)

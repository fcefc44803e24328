"""Learning-rate schedules against their formulas (Keras's, and PyTorch's StepLR), configs,
argument errors, and their use by an optimizer."""

import math

import numpy as np
import pytest

import ferrograd as fg

S = fg.optimizers.schedules
STEPS = [0, 1, 5, 9, 10, 11, 25, 99, 100, 101, 1000]


def exponential(step, initial, decay_steps, rate, staircase):
    p = step / decay_steps
    return initial * rate ** (math.floor(p) if staircase else p)


def inverse_time(step, initial, decay_steps, rate, staircase):
    p = step / decay_steps
    return initial / (1 + rate * (math.floor(p) if staircase else p))


def polynomial(step, initial, decay_steps, end, power, cycle):
    if cycle:
        decay_steps = decay_steps * (1 if step == 0 else math.ceil(step / decay_steps))
    else:
        step = min(step, decay_steps)
    return (initial - end) * (1 - step / decay_steps) ** power + end


def cosine(step, initial, decay_steps, alpha, warmup_target, warmup_steps):
    def decay(s, start):
        s = min(s, decay_steps)
        return start * ((1 - alpha) * 0.5 * (1 + math.cos(math.pi * s / decay_steps)) + alpha)

    if warmup_target is None:
        return decay(step, initial)
    if step < warmup_steps:
        return initial + (warmup_target - initial) * step / warmup_steps
    return decay(step - warmup_steps, warmup_target)


@pytest.mark.parametrize("staircase", [False, True])
def test_exponential_decay(staircase):
    s = S.ExponentialDecay(0.1, decay_steps=10, decay_rate=0.5, staircase=staircase)
    for step in STEPS:
        assert s(step) == pytest.approx(exponential(step, 0.1, 10, 0.5, staircase), rel=1e-14)
    if staircase:
        assert s(9) == s(0) and s(10) == pytest.approx(0.05)


@pytest.mark.parametrize("staircase", [False, True])
def test_inverse_time_decay(staircase):
    s = S.InverseTimeDecay(0.2, decay_steps=4, decay_rate=0.7, staircase=staircase)
    for step in STEPS:
        assert s(step) == pytest.approx(inverse_time(step, 0.2, 4, 0.7, staircase), rel=1e-14)


def test_piecewise_constant_boundaries():
    s = S.PiecewiseConstantDecay([10, 100], [1.0, 0.5, 0.1])
    expected = {0: 1.0, 9: 1.0, 10: 1.0, 11: 0.5, 99: 0.5, 100: 0.5, 101: 0.1, 10**6: 0.1}
    for step, value in expected.items():
        assert s(step) == value
    assert S.PiecewiseConstantDecay([], [0.3])(50) == 0.3


@pytest.mark.parametrize(
    ("alpha", "warmup_target", "warmup_steps"),
    [(0.0, None, 0), (0.2, None, 0), (0.1, 1.0, 20), (0.0, 0.5, 0)],
)
def test_cosine_decay(alpha, warmup_target, warmup_steps):
    s = S.CosineDecay(
        0.05, decay_steps=80, alpha=alpha, warmup_target=warmup_target, warmup_steps=warmup_steps
    )
    for step in [*STEPS, 19, 20, 21, 60]:
        expected = cosine(step, 0.05, 80, alpha, warmup_target, warmup_steps)
        assert s(step) == pytest.approx(expected, rel=1e-12, abs=1e-15), step


def test_cosine_warmup_is_linear():
    s = S.CosineDecay(0.0, decay_steps=100, warmup_target=0.1, warmup_steps=10)
    assert [round(s(k), 12) for k in range(0, 11, 2)] == [0.0, 0.02, 0.04, 0.06, 0.08, 0.1]
    assert s(110) == pytest.approx(0.0, abs=1e-15)
    assert s(10**6) == pytest.approx(0.0, abs=1e-15)


@pytest.mark.parametrize(("power", "cycle"), [(1.0, False), (0.5, False), (2.0, True)])
def test_polynomial_decay(power, cycle):
    s = S.PolynomialDecay(0.1, decay_steps=10, end_learning_rate=0.001, power=power, cycle=cycle)
    for step in STEPS:
        expected = polynomial(step, 0.1, 10, 0.001, power, cycle)
        assert s(step) == pytest.approx(expected, rel=1e-12), step


def test_step_decay_is_torch_step_lr_per_step():
    s = S.StepDecay(1.0, step_size=10, gamma=0.5)
    for step in STEPS:
        assert s(step) == pytest.approx(0.5 ** (step // 10), rel=1e-14)
    assert S.StepDecay(0.3, step_size=2).gamma == 0.1


def test_steps_may_be_numpy_numbers():
    s = S.ExponentialDecay(1.0, 1, 0.5)
    assert s(np.int64(3)) == 0.125
    assert s(3.0) == 0.125
    with pytest.raises(ValueError, match="step=-1"):
        s(-1)


ALL = [
    S.ExponentialDecay(0.1, 100, 0.96, staircase=True),
    S.PiecewiseConstantDecay([5, 10], [0.1, 0.01, 0.001]),
    S.CosineDecay(0.0, 50, alpha=0.1, warmup_target=0.1, warmup_steps=5),
    S.InverseTimeDecay(0.1, 1.0, 0.5),
    S.PolynomialDecay(0.1, 100, end_learning_rate=0.0, power=2.0, cycle=True),
    S.StepDecay(0.1, step_size=30, gamma=0.2),
]


@pytest.mark.parametrize("schedule", ALL, ids=lambda s: type(s).__name__)
def test_config_round_trip(schedule):
    config = schedule.get_config()
    assert config["name"]
    again = type(schedule).from_config(config)
    assert again.get_config() == config
    for step in STEPS:
        assert again(step) == schedule(step)
    restored = S.deserialize(S.serialize(schedule))
    assert type(restored) is type(schedule)
    assert restored.get_config() == config
    assert type(schedule).__name__ in repr(schedule)


@pytest.mark.parametrize("schedule", ALL, ids=lambda s: type(s).__name__)
def test_optimizer_steps_use_the_schedule_at_each_iteration(schedule):
    opt = fg.optimizers.SGD(learning_rate=schedule)
    w = fg.tensor([0.0], dtype="float64")
    total = 0.0
    for step in range(12):
        assert opt.learning_rate == schedule(step)
        opt.apply_gradients([(np.array([1.0]), w)])
        total += schedule(step)
        assert w.numpy()[0] == pytest.approx(-total, rel=1e-14)
    assert opt.iterations == 12


@pytest.mark.parametrize(
    ("make", "echo"),
    [
        (lambda: S.ExponentialDecay(0.1, 0, 0.5), "decay_steps=0.0"),
        (lambda: S.ExponentialDecay(0.1, -10, 0.5), "decay_steps=-10.0"),
        (lambda: S.ExponentialDecay(-0.1, 10, 0.5), "initial_learning_rate=-0.1"),
        (lambda: S.InverseTimeDecay(0.1, 0, 0.5), "decay_steps=0.0"),
        (lambda: S.PolynomialDecay(0.1, 0), "decay_steps=0.0"),
        (lambda: S.CosineDecay(0.1, 0), "decay_steps=0.0"),
        (lambda: S.CosineDecay(0.1, 10, alpha=2.0), "alpha=2.0"),
        (lambda: S.StepDecay(0.1, step_size=0), "step_size=0"),
        (lambda: S.StepDecay(0.1, step_size=2.5), "step_size=2.5"),
        (lambda: S.PiecewiseConstantDecay([1, 2], [0.1, 0.2]), "boundaries=[1.0, 2.0]"),
        (lambda: S.PiecewiseConstantDecay([2, 1], [0.1, 0.2, 0.3]), "strictly increasing"),
        (lambda: S.ExponentialDecay(0.1, float("inf"), 0.5), "decay_steps=inf"),
    ],
)
def test_bad_arguments_echo_the_value(make, echo):
    with pytest.raises(ValueError) as info:
        make()
    assert echo in str(info.value)


def test_base_class_must_be_subclassed():
    with pytest.raises(NotImplementedError):
        S.LearningRateSchedule()(0)
    with pytest.raises(ValueError, match="Unknown learning rate schedule"):
        S.deserialize({"class_name": "Mystery", "config": {}})


def test_one_registered_class_per_file_named_as_its_rust_schedule():
    from pathlib import Path

    from ferrograd.optimizers.schedules.learning_rate_schedule import _REGISTRY

    package = Path(S.__file__).parent
    files = {p.stem for p in package.glob("*.py") if not p.stem.startswith("_")}
    files.discard("learning_rate_schedule")
    # Built-in schedules only: a user's subclass registers too (the base class's docstring
    # example defines one), from its own module.
    built_in = {
        name: cls
        for name, cls in _REGISTRY.items()
        if cls.__module__.startswith(S.__name__ + ".")
        and cls.__module__ != S.learning_rate_schedule.__name__
    }
    modules = {cls.__module__.rsplit(".", 1)[1] for cls in built_in.values()}
    assert modules == files
    rust = Path(__file__).parents[1] / "src" / "optimizers" / "schedules"
    for name, cls in built_in.items():
        assert getattr(S, name) is cls
        assert (rust / f"{cls.__module__.rsplit('.', 1)[1]}.rs").is_file(), name

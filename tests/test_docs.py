"""The documentation: every public name has a docstring with Args, every example runs, the
site builds.

The public API is what ``ferrograd`` and its submodules list in ``__all__``, and the public
methods of the classes listed there.
"""

from __future__ import annotations

import doctest
import importlib
import inspect
import io
import os
import pkgutil
import re
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import ferrograd as fg
from ferrograd import layers

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"


def public_modules() -> dict[str, object]:
    """``ferrograd`` and every submodule reachable through the ``__all__`` lists."""
    found = {}
    pending = ["ferrograd", "ferrograd.optimizers.schedules", "ferrograd.saving"]
    if importlib.util.find_spec("sklearn") is not None:
        pending.append("ferrograd.sklearn")
    while pending:
        name = pending.pop()
        if name in found:
            continue
        module = importlib.import_module(name)
        found[name] = module
        for attribute in getattr(module, "__all__", []):
            value = getattr(module, attribute, None)
            if inspect.ismodule(value) and value.__name__.startswith("ferrograd"):
                pending.append(value.__name__)
    return found


def takes_arguments(function) -> bool:
    """Whether a function (or a class's ``__init__``) takes anything beyond ``self``."""
    target = function.__init__ if inspect.isclass(function) else function
    try:
        signature = inspect.signature(target)
    except (TypeError, ValueError):
        # A native function without a text signature: its stub says it takes arguments if its
        # docstring mentions them, so judge by the docstring having Args at all.
        return False
    return any(p.name not in ("self", "cls") for p in signature.parameters.values())


def public_callables() -> dict[str, object]:
    """Every public function and class, and every public method of those classes, by a
    dotted name (each object once, under the first name found)."""
    named: dict[str, object] = {}
    seen: set[int] = set()
    for module_name, module in sorted(public_modules().items()):
        for attribute in getattr(module, "__all__", []):
            value = getattr(module, attribute, None)
            if value is None or inspect.ismodule(value) or not callable(value):
                continue
            if id(value) not in seen:
                seen.add(id(value))
                named[f"{module_name}.{attribute}"] = value
            if not inspect.isclass(value):
                continue
            for method_name, method in vars_of_public_class(value):
                if id(method) not in seen:
                    seen.add(id(method))
                    named[f"{module_name}.{attribute}.{method_name}"] = method
    return named


def vars_of_public_class(cls):
    """The public methods a ferrograd class defines or inherits from a ferrograd class."""
    for klass in cls.__mro__:
        module = getattr(klass, "__module__", "") or ""
        if not module.startswith("ferrograd"):
            continue
        for name, member in vars(klass).items():
            if name.startswith("_") or isinstance(member, property):
                continue
            if isinstance(member, (staticmethod, classmethod)):
                member = member.__func__
            if callable(member) and not inspect.isclass(member):
                yield name, member


PUBLIC = public_callables()


def test_the_public_api_is_large_enough_to_be_the_real_one():
    assert len(PUBLIC) > 350
    for name in ["ferrograd.Model.fit", "ferrograd.layers.Dense", "ferrograd.Tensor.backward"]:
        assert name in PUBLIC, name


@pytest.mark.parametrize("name", sorted(PUBLIC))
def test_every_public_name_has_a_docstring_with_args(name):
    obj = PUBLIC[name]
    doc = inspect.getdoc(obj) or ""
    assert doc.strip(), f"{name} has no docstring"
    assert doc.strip().splitlines()[0].strip(), f"{name}: the docstring opens with a blank line"
    if takes_arguments(obj):
        init_doc = inspect.getdoc(obj.__init__) if inspect.isclass(obj) else ""
        assert "Args:" in doc or "Args:" in (init_doc or ""), f"{name} takes arguments: no Args"
    # mkdocstrings renders "Examples:" as code; "Example:" would be read as markdown.
    assert not re.search(r"^\s*Example:\s*$", doc, re.MULTILINE), f"{name}: write Examples:"


def package_modules() -> list[str]:
    names = []
    for info in pkgutil.walk_packages(fg.__path__, prefix="ferrograd."):
        if ".examples" in info.name:
            continue
        names.append(info.name)
    return sorted(names)


def doctest_globals(tmp_path) -> dict:
    """The names the docstring examples use without importing them, and a small saved
    model for the saving examples."""
    fg.clear_session()
    model = fg.Sequential(
        [layers.Dense(2, input_shape=(3,)), layers.Dense(1, activation="sigmoid")]
    )
    model.compile(optimizer="adam", loss="binary_crossentropy")
    model.save(str(tmp_path / "model.fgm"))
    model.save_weights(str(tmp_path / "w.safetensors"))
    fg.clear_session()
    rng = np.random.default_rng(0)
    x = rng.normal(size=(40, 3)).astype("float32")
    y = (x[:, :1] > 0).astype("float32")
    names = {
        "fg": fg,
        "layers": layers,
        "np": np,
        "io": io,
        "model": model,
        "x": x[:32],
        "y": y[:32],
        "x_test": x[32:],
        "y_test": y[32:],
    }
    try:
        import torch
    except ImportError:
        return names
    # The interop examples: a PyTorch twin of ``model`` (Linear, activation, Linear).
    names["torch"] = torch
    names["torch_model"] = torch.nn.Sequential(
        torch.nn.Linear(3, 2), torch.nn.Identity(), torch.nn.Linear(2, 1), torch.nn.Sigmoid()
    )
    return names


@pytest.mark.parametrize("module_name", package_modules())
def test_docstring_examples_run(module_name, tmp_path, monkeypatch):
    if module_name == "ferrograd.sklearn":
        pytest.importorskip("sklearn")
    if module_name in ("ferrograd._dlpack", "ferrograd.interop"):
        pytest.importorskip("torch")
    if module_name == "ferrograd.onnx":
        pytest.importorskip("onnxruntime")
    monkeypatch.chdir(tmp_path)
    module = importlib.import_module(module_name)
    result = doctest.testmod(
        module,
        extraglobs=doctest_globals(tmp_path),
        optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE,
        verbose=False,
    )
    assert result.failed == 0, f"{result.failed} failing examples in {module_name}"


DOC_PAGES = sorted(p for p in DOCS.rglob("*.md") if "notebooks" not in p.relative_to(DOCS).parts)
PYTHON_BLOCK = re.compile(r"^```python\n(.*?)^```", re.DOTALL | re.MULTILINE)


def test_the_docs_have_the_pages_the_site_links():
    names = {str(p.relative_to(DOCS)) for p in DOC_PAGES}
    for page in ["index.md", "getting_started.md", "keras_users.md", "pytorch_users.md"]:
        assert page in names
    assert sum(1 for p in DOC_PAGES if PYTHON_BLOCK.search(p.read_text())) >= 8


@pytest.mark.parametrize("page", DOC_PAGES, ids=lambda p: str(p.relative_to(DOCS)))
def test_the_code_of_each_page_runs(page, tmp_path, monkeypatch):
    """The ```python blocks of a page run in order in one namespace, as a reader would."""
    blocks = PYTHON_BLOCK.findall(page.read_text())
    if not blocks:
        return
    if any("sklearn" in block for block in blocks):
        pytest.importorskip("sklearn")
    if any("import torch" in block for block in blocks):
        pytest.importorskip("torch")
    monkeypatch.chdir(tmp_path)
    fg.clear_session()
    namespace: dict = {"__name__": "__docs__"}
    for number, block in enumerate(blocks, 1):
        code = compile(block, f"{page.name}, block {number}", "exec")
        exec(code, namespace)  # noqa: S102  (our own documentation's examples)


def test_the_site_builds_strictly(tmp_path):
    """``mkdocs build --strict``: no broken link, no missing reference, every docstring parsed."""
    pytest.importorskip("mkdocs")
    pytest.importorskip("mkdocstrings")
    if shutil.which("mkdocs") is None:
        pytest.skip("the mkdocs command is not on PATH")
    environment = dict(os.environ, NO_MKDOCS_2_WARNING="1")
    # The site documents the package as installed; make it the one under test.
    environment["PYTHONPATH"] = os.pathsep.join(
        [str(Path(fg.__file__).resolve().parent.parent), environment.get("PYTHONPATH", "")]
    )
    result = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "-q", "-d", str(tmp_path / "site")],
        cwd=ROOT,
        env=environment,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    assert (tmp_path / "site" / "api" / "layers" / "index.html").is_file()
    page = (tmp_path / "site" / "api" / "layers" / "index.html").read_text()
    assert "Dense" in page and "units" in page

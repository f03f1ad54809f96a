"""DESIGN.md invariant 1: the core never imports a framework."""

import ast
import pathlib
import subprocess
import sys

FRAMEWORKS = {"torch", "jax", "jaxlib", "tensorflow", "equinox", "optax", "flax", "keras"}
CORE = pathlib.Path(__file__).resolve().parents[1] / "kbridge"


def _imported_roots(path):
    tree = ast.parse(path.read_text(), filename=str(path))
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield node.lineno, alias.name.partition(".")[0]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            yield node.lineno, node.module.partition(".")[0]
        elif isinstance(node, ast.Call) and getattr(node.func, "attr", getattr(node.func, "id", "")) in (
            "import_module",
            "__import__",
        ):
            if node.args and isinstance(node.args[0], ast.Constant) and isinstance(node.args[0].value, str):
                yield node.lineno, node.args[0].value.partition(".")[0]


def test_core_sources_import_no_framework():
    offenders = [
        f"{path.relative_to(CORE.parent)}:{line} imports {root}"
        for path in sorted(CORE.rglob("*.py"))
        for line, root in _imported_roots(path)
        if root in FRAMEWORKS
    ]
    assert CORE.is_dir() and len(list(CORE.rglob("*.py"))) > 10
    assert offenders == []


def test_importing_kbridge_loads_no_framework():
    code = (
        "import sys, kbridge, kbridge.layers, kbridge.models\n"
        "loaded = sorted(m for m in sys.modules if m.partition('.')[0] in "
        f"{sorted(FRAMEWORKS)!r})\n"
        "print(loaded)\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "[]"


def test_numpy_model_runs_without_frameworks():
    code = (
        "import sys, numpy as np, kbridge\n"
        "kbridge.config.set_backend('numpy')\n"
        "model = kbridge.Sequential([kbridge.Input((3,)), kbridge.layers.Dense(2)])\n"
        "print(model(np.ones((1, 3), 'float32')).shape)\n"
        "print(sorted(m for m in sys.modules if m.partition('.')[0] in ('torch', 'jax', 'tensorflow')))\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.split("\n")[:2] == ["(1, 2)", "[]"]

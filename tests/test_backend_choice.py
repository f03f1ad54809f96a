"""Backend choice: KBRIDGE_BACKEND, set_backend, the thread-local `use()` scope, the default order."""

import os
import subprocess
import sys
import threading

import numpy as np
import pytest

import kbridge
from kbridge.backend import registry


def _run(code, **env):
    full_env = {k: v for k, v in os.environ.items() if k != "KBRIDGE_BACKEND"}
    full_env.update(env)
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=full_env)
    assert result.returncode == 0, result.stderr
    return result.stdout.strip()


@pytest.mark.parametrize("name", ["numpy", "jax", "torch", "tensorflow"])
def test_env_var_sets_default(name):
    out = _run("import kbridge; print(kbridge.config.backend(), kbridge.backend.backend())", KBRIDGE_BACKEND=name)
    assert out == f"{name} {name}"


def test_env_var_accepts_alias():
    assert _run("import kbridge; print(kbridge.config.backend())", KBRIDGE_BACKEND="tf") == "tensorflow"


def test_default_order_is_first_installed():
    out = _run(
        "import kbridge\n"
        "from kbridge.backend import registry\n"
        "expected = next(n for n in registry.DEFAULT_ORDER if registry.is_installed(n))\n"
        "print(kbridge.config.backend() == expected, expected)"
    )
    assert out.startswith("True ")
    assert registry.DEFAULT_ORDER == ("jax", "torch", "tensorflow", "numpy")


def test_unknown_backend_name_is_a_clear_error():
    with pytest.raises(ValueError, match="Unknown backend 'mxnet'"):
        kbridge.config.set_backend("mxnet")
    with pytest.raises(TypeError, match="backend name must be a string"):
        registry.canonical_name(3)


def test_set_backend_changes_where_new_variables_live():
    saved = kbridge.config.backend()
    try:
        kbridge.config.set_backend("numpy")
        assert kbridge.Variable(np.zeros(2)).backend == "numpy"
        kbridge.config.set_backend("torch")
        assert kbridge.Variable(np.zeros(2)).backend == "torch"
    finally:
        kbridge.config.set_backend(saved)


def test_use_scope_is_thread_local_and_nests():
    seen = {}
    barrier = threading.Barrier(2)

    def worker(name):
        with kbridge.backend.use(name):
            barrier.wait()
            seen[name] = kbridge.Variable(np.zeros(1)).backend
            with kbridge.backend.use("numpy"):
                seen[name + "/inner"] = kbridge.Variable(np.zeros(1)).backend
            seen[name + "/after"] = kbridge.Variable(np.zeros(1)).backend

    threads = [threading.Thread(target=worker, args=(n,)) for n in ("torch", "jax")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert seen == {
        "torch": "torch",
        "torch/inner": "numpy",
        "torch/after": "torch",
        "jax": "jax",
        "jax/inner": "numpy",
        "jax/after": "jax",
    }


def test_top_level_ops_follow_the_argument_type():
    import torch

    with kbridge.backend.use("numpy"):
        pass
    out = kbridge.ops.add(torch.ones(2), 1.0)
    assert isinstance(out, torch.Tensor)
    np.testing.assert_array_equal(out.numpy(), [2.0, 2.0])


def test_top_level_ops_refuse_two_frameworks():
    import jax.numpy as jnp
    import torch

    with pytest.raises(ValueError, match="two backends at once: torch and jax"):
        kbridge.ops.add(torch.ones(2), jnp.ones(2))

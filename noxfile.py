"""Sessions: tests, keras_parity, xla, lint, bench, demo.

Every session installs from `constraints.txt` (exact tested versions; torch is the
CPU build pinned to 2.13.0), except `xla`: torch-xla supports one torch release, so that
session has its own venv (kbridge, torch 2.9.0, torch-xla 2.9.0, pytest; no jax/tf) pinned
by `constraints-xla.txt`. The registry's torch 2.9.0 is the CUDA build (~7 GB, ~2.5 min to
install); its tests run on `PJRT_DEVICE=CPU`. `tests` leaves the `xla` marker out.
"""

import nox

nox.options.sessions = ["tests", "keras_parity"]
nox.options.reuse_existing_virtualenvs = True
PYTHON = "3.11"
CONSTRAINTS = ("-c", "constraints.txt")
# torch-xla supports one torch release (torch 2.9.0 + torch-xla 2.9.0): its own pins, its own venv.
XLA_CONSTRAINTS = ("-c", "constraints-xla.txt")


def _install(session, extras):
    session.install(*CONSTRAINTS, "-e", f".[{extras}]")


@nox.session(python=PYTHON)
def tests(session):
    """The whole test suite on all four backends (Keras-parity tests excluded)."""
    _install(session, "all,test")
    # test_torch_xla.py belongs to the xla session; collected here it would only show as a skip.
    session.run(
        "pytest", "-n", "2", "-m", "not keras_parity and not xla", "--ignore=interop_tests/test_torch_xla.py",
        *session.posargs,
    )


@nox.session(python=PYTHON)
def keras_parity(session):
    """Same models built in Keras 3 and kbridge: equal outputs and config keys (keras is test-only)."""
    _install(session, "all,test")
    session.install(*CONSTRAINTS, "keras")
    session.run("pytest", "-n", "2", "-m", "keras_parity", "--ignore=interop_tests/test_torch_xla.py", *session.posargs)


@nox.session(python=PYTHON)
def demo(session):
    """The quickstart example."""
    _install(session, "all,test")
    session.run("python", "examples/quickstart.py", *session.posargs)


@nox.session(python=PYTHON)
def lint(session):
    """Static checks, including the rule that kbridge/ imports no framework."""
    session.install(*CONSTRAINTS, "ruff")
    session.run("ruff", "check", "kbridge", "adapters", "tests", "interop_tests")


@nox.session(python=PYTHON)
def bench(session):
    """Speed and memory against hand-written native code and Keras 3 (benchmarks/README.md).

    `nox -s bench -- --quick`, `-- --workloads mlp --reps 5`, `-- --compare old.json new.json`.
    """
    _install(session, "all,test")
    session.install(*CONSTRAINTS, "keras")
    session.run("python", "benchmarks/run.py", *session.posargs)


@nox.session(python=PYTHON)
def xla(session):
    """The torch adapter on a torch-xla device (PJRT_DEVICE=CPU): forward, backward and optimizer steps match CPU.

    torch-xla pins its own torch release, so this venv holds kbridge (no extras: the `torch` extra
    pins 2.13.0), torch 2.9.0, torch-xla 2.9.0 and pytest from `constraints-xla.txt`.
    KBRIDGE_REQUIRE_XLA=1 turns the tests' skip-when-torch_xla-is-missing into a failure, and
    pytest fails when no test is collected, so a green session means the XLA tests really ran.
    """
    session.install(*XLA_CONSTRAINTS, "-e", ".", "torch", "torch-xla", "pytest")
    session.run(
        "pytest", "-m", "xla", "interop_tests/test_torch_xla.py", *session.posargs,
        env={"PJRT_DEVICE": "CPU", "KBRIDGE_REQUIRE_XLA": "1"},
    )

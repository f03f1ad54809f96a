"""Sessions: tests, keras_parity, lint, bench, demo (xla comes with the torch adapter issue).

Every session installs from `constraints.txt` (exact tested versions; torch is the
CPU build pinned to 2.13.0).
"""

import nox

nox.options.sessions = ["tests", "keras_parity"]
nox.options.reuse_existing_virtualenvs = True
PYTHON = "3.11"
CONSTRAINTS = ("-c", "constraints.txt")


def _install(session, extras):
    session.install(*CONSTRAINTS, "-e", f".[{extras}]")


@nox.session(python=PYTHON)
def tests(session):
    """The whole test suite on all four backends (Keras-parity tests excluded)."""
    _install(session, "all,test")
    session.run("pytest", "-n", "2", "-m", "not keras_parity", *session.posargs)


@nox.session(python=PYTHON)
def keras_parity(session):
    """Same models built in Keras 3 and kbridge: equal outputs and config keys (keras is test-only)."""
    _install(session, "all,test")
    session.install(*CONSTRAINTS, "keras")
    session.run("pytest", "-n", "2", "-m", "keras_parity", *session.posargs)


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

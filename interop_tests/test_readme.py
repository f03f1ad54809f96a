"""The README's Python code blocks run as written (in order, in one namespace)."""

import pathlib
import re

README = pathlib.Path(__file__).resolve().parents[1] / "README.md"


def test_readme_python_blocks_run():
    blocks = re.findall(r"```python\n(.*?)```", README.read_text(), flags=re.S)
    assert len(blocks) >= 2
    namespace = {}
    for block in blocks:
        exec(compile(block, str(README), "exec"), namespace)  # noqa: S102 - our own documentation
    assert namespace["model"].optimizer.iterations.numpy() > 0


def test_ci_runs_the_readme_test_command():
    """`.ci/run` runs exactly the README's "run the whole test suite" command."""
    readme = README.read_text()
    ci = (README.parent / ".ci" / "run").read_text()
    command = re.search(r"pip install nox && (python3 -m nox -s tests[^#\n]*?)\s*# install, run the whole", readme)
    assert command, "README: the test-suite command line is missing"
    assert command.group(1) in ci.splitlines(), f".ci/run does not run {command.group(1)!r}"

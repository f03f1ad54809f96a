"""Every ```python block of the user guide in docs/ runs as written.

The blocks of one page run in order in one fresh interpreter (later blocks use names
from earlier ones), so a page cannot lean on state left by another page or by pytest.
Fences:

- ```python           runs in the `tests` session;
- ```python keras     needs real Keras 3 (test-only dependency): runs, with the rest of
                      its page, in the `keras_parity` session;
- ```python no-run    shown only (torchrun, several processes, devices CI lacks).
"""

import pathlib
import re
import subprocess
import sys
import textwrap

import pytest

DOCS = pathlib.Path(__file__).resolve().parents[1] / "docs"
PAGES = sorted(DOCS.glob("*.md"))
# Fences may be indented (a block inside a list item); the code is dedented.
_FENCE = re.compile(r"^([ \t]*)```python([^\n]*)\n(.*?)^[ \t]*```", flags=re.S | re.M)


def blocks(page, with_keras):
    """The runnable blocks of `page` as `(line, code)`, in order."""
    text = page.read_text()
    found = []
    for match in _FENCE.finditer(text):
        tag = match.group(2).strip()
        if tag not in ("", "keras", "no-run"):
            raise AssertionError(f"{page.name}: unknown fence tag {tag!r} (use python, python keras or python no-run)")
        if tag == "no-run" or (tag == "keras" and not with_keras):
            continue
        found.append((text.count("\n", 0, match.start()) + 2, textwrap.dedent(match.group(3))))
    return found


def program(page, with_keras):
    """One script running every block of `page`; tracebacks name the block as `page.md:<first line>`."""
    parts = ["import sys as _sys"]
    for line, code in blocks(page, with_keras):
        name = f"{page.name}:{line}"
        parts.append(f"exec(compile({code!r}, {name!r}, 'exec'), globals())")
        parts.append(f"print('block ok: {name}', file=_sys.stderr)")
    return "\n".join(parts)


def run_page(page, with_keras, tmp_path):
    result = subprocess.run(
        [sys.executable, "-c", program(page, with_keras)],
        cwd=tmp_path, capture_output=True, text=True, timeout=300,
    )
    assert result.returncode == 0, f"{page.name} failed:\n{result.stdout[-3000:]}\n{result.stderr[-6000:]}"
    return result


def test_docs_have_pages_and_code():
    names = {page.name for page in PAGES}
    for expected in ("index.md", "getting-started.md", "models.md", "training.md", "pytorch.md", "jax.md",
                     "tensorflow.md", "saving.md", "coming-from-keras.md", "how-kbridge-works.md"):
        assert expected in names, f"docs/{expected} is missing"
    assert sum(len(blocks(page, with_keras=True)) for page in PAGES) >= 20, "docs/ has (almost) no python blocks"


def test_index_links_every_page():
    index = (DOCS / "index.md").read_text()
    for page in PAGES:
        if page.name != "index.md":
            assert f"({page.name})" in index, f"docs/index.md does not link {page.name}"


@pytest.mark.parametrize("page", [p for p in PAGES if blocks(p, with_keras=False)], ids=lambda p: p.name)
def test_page_blocks_run(page, tmp_path):
    result = run_page(page, with_keras=False, tmp_path=tmp_path)
    assert result.stderr.count("block ok:") == len(blocks(page, with_keras=False))


def test_a_failing_block_fails_the_page(tmp_path):
    page = tmp_path / "broken.md"
    page.write_text("```python\nx = 1\n```\n\n```python\nassert x == 2, 'caught'\n```\n")
    with pytest.raises(AssertionError, match="caught"):
        run_page(page, with_keras=False, tmp_path=tmp_path)


@pytest.mark.keras_parity
@pytest.mark.parametrize(
    "page", [p for p in PAGES if len(blocks(p, True)) > len(blocks(p, False))], ids=lambda p: p.name
)
def test_page_blocks_run_with_keras(page, tmp_path):
    result = run_page(page, with_keras=True, tmp_path=tmp_path)
    assert result.stderr.count("block ok:") == len(blocks(page, with_keras=True))

"""The documentation in docs/ builds with warnings as errors, and its code examples run.

Both Sphinx builds run in a fresh output directory through a subprocess, as CI runs them
(``sphinx-build -W -b html docs OUT`` and ``-b doctest``): a broken docstring, a dangling
reference or a guide example whose output changed fails here.  Skipped, with the reason, when
Sphinx is not installed (``pip install -e ".[docs]"``).
"""

from __future__ import annotations

import importlib.util
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

pytestmark = pytest.mark.skipif(
    importlib.util.find_spec("sphinx") is None,
    reason='Sphinx is not installed: pip install -e ".[docs]" to build and test the docs',
)


def _build(builder: str, out: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "MPLBACKEND": "Agg", "PYTHONWARNINGS": ""}
    command = [sys.executable, "-m", "sphinx", "-W", "-q", "-b", builder, str(ROOT / "docs")]
    return subprocess.run(
        [*command, str(out), "-d", str(out / ".doctrees")],
        capture_output=True,
        text=True,
        env=env,
        check=False,
        stdin=subprocess.DEVNULL,
    )


@pytest.mark.parametrize("builder", ["html", "doctest"])
def test_docs_build_without_warnings(builder, tmp_path):
    completed = _build(builder, tmp_path / builder)
    assert completed.returncode == 0, (
        f"sphinx-build -W -b {builder} failed (exit {completed.returncode}):\n"
        f"{completed.stdout[-4000:]}\n{completed.stderr[-4000:]}"
    )
    if builder == "doctest":
        report = (tmp_path / builder / "output.txt").read_text(encoding="utf-8")
        ran = re.search(r"^\s*(\d+) tests?$", report, re.MULTILINE)
        assert ran is not None and int(ran.group(1)) > 0, f"no doctest ran:\n{report[-2000:]}"
        assert " 0 failures in tests" in report, report[-2000:]
    else:
        assert (tmp_path / builder / "guide.html").is_file()

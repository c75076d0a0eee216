"""Every Python example of docs/testing.md runs as written: pytest and unittest examples as
test files under pytest (with the plugin), scripts in a fresh interpreter."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

pytest_plugins = ["pytester"]

DOC = Path(__file__).resolve().parents[1] / "docs" / "testing.md"
_BLOCK = re.compile(r"(?:<!-- test: (\w+) -->\n)?```python\n(.*?)```", re.DOTALL)


def _examples() -> list[tuple[str, str]]:
    return [(kind, code) for kind, code in _BLOCK.findall(DOC.read_text())]


def test_every_python_example_says_how_it_runs() -> None:
    kinds = [kind for kind, _ in _examples()]
    assert len(kinds) >= 4
    assert all(kind in ("pytest", "script") for kind in kinds), kinds


@pytest.mark.parametrize(
    "code",
    [code for kind, code in _examples() if kind == "pytest"],
    ids=lambda code: code.split("\ndef ")[1].split("(")[0] if "\ndef " in code else "test",
)
def test_pytest_examples_pass(pytester: pytest.Pytester, code: str) -> None:
    pytester.makepyfile(test_example=code)
    result = pytester.runpytest_subprocess()  # as a user runs it: a fresh pytest
    outcomes = result.parseoutcomes()
    assert outcomes.get("passed", 0) >= 2, result.stdout.str()
    assert set(outcomes) == {"passed"}, result.stdout.str()


@pytest.mark.parametrize("code", [code for kind, code in _examples() if kind == "script"])
def test_script_examples_run(tmp_path: Path, code: str) -> None:
    script = tmp_path / "example.py"
    script.write_text(code)
    completed = subprocess.run(
        [sys.executable, str(script)], capture_output=True, text=True, timeout=120
    )
    assert completed.returncode == 0, completed.stderr

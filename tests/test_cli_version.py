"""``customer-core --version`` names the package's version, as ``__version__`` does."""

from __future__ import annotations

import pytest

import customer_core
from customer_core.cli import main


def test_version(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit:
        main(["--version"])
    assert exit.value.code == 0
    assert capsys.readouterr().out == f"customer-core {customer_core.__version__}\n"

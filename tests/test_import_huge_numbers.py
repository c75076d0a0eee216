"""A number beyond a double's range in an imported line (``1e400``, which JSON allows and
the parser turns into infinity) is named as a number too large, not as "Infinity", which
the line never said."""

from __future__ import annotations

from pathlib import Path

import pytest

from customer_core.cli import main


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        (
            '"created":1e400',
            "error: line 1: created: Invalid integer: a number beyond 1.8e308; expected a "
            "JSON integer, not a decimal number",
        ),
        (
            '"created":1,"metadata":{"a":-1e400}',
            "error: line 1: metadata[a]: Invalid string: a number below -1.8e308; expected "
            "a JSON string, not a decimal number",
        ),
    ],
)
def test_a_number_beyond_a_double_is_named_so(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], fields: str, message: str
) -> None:
    source = tmp_path / "customers.jsonl"
    source.write_text(f'{{"object":"customer","id":"cus_A1",{fields}}}\n')
    assert main(["import", str(source), "--db", str(tmp_path / "c.db")]) == 1
    assert capsys.readouterr().err == f"{message}\nnothing was imported\n"

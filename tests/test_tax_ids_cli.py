"""Tax IDs through the customer-core command: tax_id_data on create, expand on retrieve."""

from __future__ import annotations

from pathlib import Path

import pytest

from .test_cli import run


def test_tax_id_data_and_expand_on_the_command_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data = str(tmp_path / "customers.db")
    status, created, _ = run(
        capsys,
        "create",
        "--db",
        data,
        "-d",
        "tax_id_data[0][type]=eu_vat",
        "-d",
        "tax_id_data[0][value]=NL123456789B12",
    )
    assert status == 0 and "tax_ids" not in created  # type: ignore[operator]
    customer_id = created["id"]  # type: ignore[index]
    status, retrieved, _ = run(
        capsys, "retrieve", customer_id, "--db", data, "-d", "expand[]=tax_ids"
    )
    (tax_id,) = retrieved["tax_ids"]["data"]  # type: ignore[index]
    assert (tax_id["type"], tax_id["value"], tax_id["country"], tax_id["customer"]) == (
        "eu_vat",
        "NL123456789B12",
        "NL",
        customer_id,
    )
    status, output, error = run(
        capsys,
        "create",
        "--db",
        data,
        "-d",
        "tax_id_data[0][type]=us_ein",
        "-d",
        "tax_id_data[0][value]=12",
    )
    assert status != 0 and output is None
    assert "Invalid value for us_ein." in error
    assert len(run(capsys, "list", "--db", data)[1]["data"]) == 1  # type: ignore[index]

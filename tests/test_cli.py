"""The customer-core command on a data file."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from customer_core import CustomerService, SQLiteStore
from customer_core.cli import default_data_path, main


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, object, str]:
    status = main(list(argv))
    captured = capsys.readouterr()
    return status, json.loads(captured.out) if captured.out.strip() else None, captured.err


def test_every_operation_on_a_data_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    data = str(tmp_path / "customers.db")
    status, created, _ = run(
        capsys,
        "create",
        "--db",
        data,
        "-d",
        "email=jenny@example.com",
        "-d",
        "metadata[plan]=gold",
        "-d",
        "preferred_locales[]=fr",
        "-d",
        "preferred_locales[]=en",
    )
    assert status == 0 and created["email"] == "jenny@example.com"  # type: ignore[index]
    assert created["metadata"] == {"plan": "gold"} and created["preferred_locales"] == ["fr", "en"]  # type: ignore[index]
    customer_id = created["id"]  # type: ignore[index]
    assert run(capsys, "retrieve", customer_id, "--db", data)[1] == created
    status, updated, _ = run(
        capsys, "update", customer_id, "--db", data, "-d", "metadata[plan]=", "-d", "name=Jenny"
    )
    assert updated["metadata"] == {} and updated["name"] == "Jenny"  # type: ignore[index]
    status, page, _ = run(capsys, "list", "--db", data, "-d", "limit=1")
    assert [c["id"] for c in page["data"]] == [customer_id]  # type: ignore[index]
    status, found, _ = run(capsys, "search", 'name:"jenny"', "--db", data)
    assert found["object"] == "search_result" and found["data"][0]["id"] == customer_id  # type: ignore[index]
    assert run(capsys, "delete", customer_id, "--db", data)[1] == {
        "id": customer_id,
        "object": "customer",
        "deleted": True,
    }


def test_errors_print_stripes_message_and_exit_non_zero(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data = str(tmp_path / "customers.db")
    status, output, error = run(capsys, "create", "--db", data, "-d", "email=not-an-email")
    assert (status, output, error) == (1, None, "error: Invalid email address: not-an-email\n")
    status, _, error = run(capsys, "retrieve", "cus_nope", "--db", data)
    assert (status, error) == (1, "error: No such customer: 'cus_nope'\n")
    status, _, error = run(capsys, "create", "--db", data, "-d", "oops")
    assert status == 1 and "KEY=VALUE" in error
    status, _, error = run(capsys, "create", "--db", str(tmp_path), "-d", "email=a@b.co")
    assert status == 1 and "it is a directory" in error


def test_the_data_file_option_is_db_and_data_is_not_accepted(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exit_:
        main(["list", "--data", str(tmp_path / "c.db")])
    assert exit_.value.code == 2 and "unrecognized arguments: --data" in capsys.readouterr().err


def test_idempotency_key_on_the_command_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data = str(tmp_path / "customers.db")
    first = run(capsys, "create", "--db", data, "--idempotency-key", "k1", "-d", "email=a@b.co")[1]
    assert (
        run(capsys, "create", "--db", data, "--idempotency-key", "k1", "-d", "email=a@b.co")[1]
        == first
    )


def test_serve_refuses_to_start_without_an_api_key(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv("CUSTOMER_CORE_API_KEY", raising=False)
    assert main(["serve", "--memory"]) == 2
    assert "needs an API key" in capsys.readouterr().err


def test_default_data_path_follows_the_environment(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("CUSTOMER_CORE_DATA", str(tmp_path / "x.db"))
    assert default_data_path() == tmp_path / "x.db"
    monkeypatch.delenv("CUSTOMER_CORE_DATA")
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path))
    assert default_data_path() == tmp_path / "customer-core" / "customers.db"


def test_the_console_script_is_declared_and_the_module_runs(tmp_path: Path) -> None:
    from importlib.metadata import entry_points

    scripts = {entry.name: entry.value for entry in entry_points(group="console_scripts")}
    assert scripts["customer-core"] == "customer_core.cli:main"
    CustomerService(SQLiteStore(tmp_path / "c.db")).create(name="Jenny")
    result = subprocess.run(
        [sys.executable, "-m", "customer_core.cli", "list", "--db", str(tmp_path / "c.db")],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0 and json.loads(result.stdout)["object"] == "list"

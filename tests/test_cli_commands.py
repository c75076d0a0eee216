"""The command line as a new user meets it: where the data file is, search's query
argument, serve's start-up errors, pipes that close early and the help texts."""

from __future__ import annotations

import socket
import subprocess
import sys
from pathlib import Path

import pytest

from customer_core import CustomerService, SQLiteStore
from customer_core.cli import DEFAULT_PORT, main

from .test_cli import run


@pytest.fixture(autouse=True)
def _no_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """The default data file under this test's directory, no key from the environment,
    help lines unwrapped whatever the terminal."""
    monkeypatch.delenv("CUSTOMER_CORE_DATA", raising=False)
    monkeypatch.delenv("CUSTOMER_CORE_API_KEY", raising=False)
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg"))
    monkeypatch.setenv("COLUMNS", "200")


# --- the data file ----------------------------------------------------------------------------


def test_a_path_in_a_missing_directory_is_an_error_not_a_new_store(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data = tmp_path / "nowhere" / "customers.db"
    status, output, error = run(capsys, "create", "--db", str(data), "-d", "name=Jenny")
    assert (status, output) == (1, None)
    assert error == (
        f"error: cannot create the data file {data}: the directory {data.parent} does not exist\n"
    )
    assert not data.parent.exists()


@pytest.mark.parametrize(
    "command",
    [
        ["list"],
        ["search", 'name:"jenny"'],
        ["retrieve", "cus_x"],
        ["update", "cus_x", "-d", "name=J"],
        ["delete", "cus_x"],
        ["export"],
    ],
)
def test_a_missing_file_is_an_error_for_commands_that_read_it(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], command: list[str]
) -> None:
    data = tmp_path / "typo.db"
    status, output, error = run(capsys, *command, "--db", str(data))
    assert (status, output) == (1, None)
    assert error == f"error: no data file at {data} (check --db or $CUSTOMER_CORE_DATA)\n"
    assert not data.exists()


def test_the_environment_variable_is_checked_like_db(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("CUSTOMER_CORE_DATA", str(tmp_path / "typo.db"))
    assert run(capsys, "list")[0] == 1
    assert not (tmp_path / "typo.db").exists()
    status, created, _ = run(capsys, "create", "-d", "name=Jenny")
    assert status == 0 and (tmp_path / "typo.db").exists()


def test_only_the_default_location_is_created(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    status, page, _ = run(capsys, "list")
    assert status == 0 and page == {
        "object": "list",
        "url": "/v1/customers",
        "has_more": False,
        "data": [],
    }
    assert (tmp_path / "xdg" / "customer-core" / "customers.db").is_file()


def test_a_file_in_an_existing_directory_is_created_by_create(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data = str(tmp_path / "new.db")
    status, created, _ = run(capsys, "create", "--db", data, "-d", "name=Jenny")
    assert status == 0
    assert run(capsys, "retrieve", created["id"], "--db", data)[1] == created  # type: ignore[index]


# --- search -------------------------------------------------------------------------------------


def test_search_takes_the_query_as_its_argument(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data = str(tmp_path / "c.db")
    jenny = run(capsys, "create", "--db", data, "-d", "email=a@b.co")[1]
    run(capsys, "create", "--db", data, "-d", "email=a.b.co@evil.io")
    status, found, _ = run(capsys, "search", 'email:"a@b.co"', "--db", data, "-d", "limit=5")
    assert status == 0 and [c["id"] for c in found["data"]] == [jenny["id"]]  # type: ignore[index]
    status, _, error = run(capsys, "search", 'email:"a@b.co"', "--db", data, "-d", "query=x")
    assert status == 1 and error.startswith("error: give the query once, as the argument")
    with pytest.raises(SystemExit):
        main(["search", "--db", data])
    assert "the following arguments are required: query" in capsys.readouterr().err


# --- serve's start-up errors ------------------------------------------------------------------


def serve_errors(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, list[str]]:
    status = main(["serve", *argv])
    return status, capsys.readouterr().err.splitlines()


def test_serve_without_a_key_or_with_an_empty_one_says_so_in_one_line(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    status, lines = serve_errors(capsys, "--memory", "--api-key", "")
    assert status == 2 and lines == [
        "error: --api-key is empty: pass the key clients must send, as in --api-key sk_test_local"
    ]
    monkeypatch.setenv("CUSTOMER_CORE_API_KEY", " ")
    status, lines = serve_errors(capsys, "--memory")
    assert status == 2 and len(lines) == 1 and lines[0].startswith("error: serve needs an API key")


def test_serve_on_a_port_in_use_says_so_before_listening(
    capsys: pytest.CaptureFixture[str],
) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        status, lines = serve_errors(
            capsys, "--memory", "--api-key", "sk_test_x", "--port", str(port)
        )
    assert status == 1
    assert lines == [f"error: cannot listen on 127.0.0.1 port {port}: address already in use"]


def test_serve_on_a_bad_data_file_says_so_before_listening(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    garbage = tmp_path / "garbage.db"
    garbage.write_text("not a database")
    status, lines = serve_errors(capsys, "--db", str(garbage), "--api-key", "sk_test_x")
    assert status == 1 and len(lines) == 1
    assert lines[0].startswith(
        f"error: Could not open the customer store {garbage}: it is not a SQLite database"
    )
    status, lines = serve_errors(
        capsys, "--db", str(tmp_path / "no" / "c.db"), "--api-key", "sk_test_x"
    )
    assert status == 1 and len(lines) == 1 and "does not exist" in lines[0]


# --- pipes --------------------------------------------------------------------------------------


def test_output_piped_into_head_ends_quietly(tmp_path: Path) -> None:
    data = tmp_path / "c.db"
    service = CustomerService(SQLiteStore(data))
    with service.batch():
        for _ in range(100):
            service.create(metadata={f"key{k}": "x" * 500 for k in range(50)})
    process = subprocess.Popen(
        [sys.executable, "-m", "customer_core.cli", "list", "-d", "limit=100", "--db", str(data)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        bufsize=0,
    )
    assert process.stdout is not None and process.stderr is not None
    assert process.stdout.read(2) == b"{\n"  # 2.5 MB to come: far more than a pipe holds
    process.stdout.close()
    error = process.stderr.read()
    process.stderr.close()
    assert process.wait(timeout=60) == 141
    assert error == b""


# --- help ---------------------------------------------------------------------------------------

COMMANDS = [
    "serve",
    "deliver",
    "create",
    "retrieve",
    "update",
    "delete",
    "list",
    "search",
    "export",
    "import",
]


def help_text(capsys: pytest.CaptureFixture[str], *argv: str) -> str:
    with pytest.raises(SystemExit) as exit_:
        main([*argv, "--help"])
    assert exit_.value.code == 0
    return capsys.readouterr().out


@pytest.mark.parametrize("command", COMMANDS)
def test_every_command_has_plain_help_with_an_example(
    capsys: pytest.CaptureFixture[str], command: str
) -> None:
    text = help_text(capsys, command)
    assert "``" not in text and ":func:" not in text
    example = text.split("example:\n", 1)[1].strip()
    assert example.startswith(f"customer-core {command}")


def test_help_shows_defaults_and_one_customer_commands_are_singular(
    capsys: pytest.CaptureFixture[str],
) -> None:
    from customer_core.http.server import DEFAULT_PORT as SERVER_PORT

    assert DEFAULT_PORT == SERVER_PORT == 12111
    serve = help_text(capsys, "serve")
    assert "port to listen on (default: 12111)" in serve
    assert "(default: 127.0.0.1, this machine only)" in serve
    assert "(default: FULL)" in serve and "(default: info)" in serve
    overview = help_text(capsys)
    assert "``" not in overview
    for command in ("create", "retrieve", "update", "delete"):
        assert f"    {command:<10}{command} a customer" in overview
    assert "    list      list customers" in overview
    assert "customer-core search 'email:\"jenny@example.com\"'" in overview

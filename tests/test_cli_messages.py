"""What export and import print: counts in the singular or plural, one line number for a
line that is not JSON (the file's), and file errors in words with a non-zero exit."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from customer_core import CustomerService, SQLiteStore
from customer_core.cli import main, names_postgres


@pytest.fixture
def db(tmp_path: Path) -> Path:
    path = tmp_path / "customers.db"
    with SQLiteStore(path) as store:
        service = CustomerService(store)
        service.create(email="one@example.com")
        service.tax_ids.create(service.create().id, type="eu_vat", value="DE123456789")
        service.delete(service.create(email="gone@example.com").id)
    return path


def test_counts_are_singular_or_plural(
    db: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "export.jsonl"
    assert main(["export", "--db", str(db), "-o", str(out)]) == 0
    assert capsys.readouterr().err == (
        "exported 2 customers, 1 tax ID, 1 deleted customer, 0 former invoice prefixes\n"
    )
    assert main(["import", str(out), "--db", str(tmp_path / "copy.db")]) == 0
    assert capsys.readouterr().err == (
        "imported 2 new customers (0 replaced, 0 skipped), 1 tax ID, 1 deleted customer, "
        "0 former invoice prefixes\n"
    )


def test_a_line_that_is_not_json_names_one_line(
    db: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    source = tmp_path / "bad.jsonl"
    good = {"id": "cus_Good", "object": "customer", "created": 1}
    source.write_text(json.dumps(good) + '\n{"object": "customer", "id": bad}\n')
    assert main(["import", str(source), "--db", str(db)]) == 1
    assert capsys.readouterr().err == (
        "error: line 2: not valid JSON (expected value at column 30)\nnothing was imported\n"
    )
    source.write_text('{"id":"cus_Good","object":"customer","created":1,}\n')
    assert main(["import", str(source), "--db", str(db)]) == 1
    err = capsys.readouterr().err
    assert err.startswith("error: line 1: not valid JSON (") and "at column 50" in err
    assert "line 1 column" not in err


def test_a_pretty_printed_document_names_the_files_line(
    db: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    source = tmp_path / "page.json"
    source.write_text('{\n  "object": "list",\n  "data": [\n    {"id": bad}\n  ]\n}\n')
    assert main(["import", str(source), "--db", str(db)]) == 1
    assert capsys.readouterr().err == (
        "error: line 4: not valid JSON (expected value at column 12)\nnothing was imported\n"
    )


def test_file_errors_are_words_and_exit_1(
    db: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    missing = tmp_path / "missing.jsonl"
    assert main(["import", str(missing), "--db", str(db)]) == 1
    assert capsys.readouterr().err == f"error: cannot read {missing}: no such file or directory\n"
    assert main(["import", str(tmp_path), "--db", str(db)]) == 1
    assert capsys.readouterr().err == f"error: cannot read {tmp_path}: is a directory\n"
    target = tmp_path / "no" / "such" / "dir.jsonl"
    assert main(["export", "--db", str(db), "-o", str(target)]) == 1
    assert capsys.readouterr().err == f"error: cannot write {target}: no such file or directory\n"


def test_an_imported_nul_is_refused_in_words(
    db: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    source = tmp_path / "nul.jsonl"
    line = {"id": "cus_Nul", "object": "customer", "created": 1, "name": "a\x00b"}
    source.write_text(json.dumps(line) + "\n")
    assert main(["import", str(source), "--db", str(db)]) == 1
    assert capsys.readouterr().err == (
        "error: line 1: name: Invalid string: a\\u0000b; must not contain a NUL character "
        "(\\u0000)\nnothing was imported\n"
    )


@pytest.mark.parametrize("command", [["list"], ["create", "-d", "email=a@b.co"]])
def test_a_keyword_form_dsn_names_postgres_not_a_file(
    command: list[str],
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # libpq's keyword form used to become a SQLite file named after the DSN.
    monkeypatch.chdir(tmp_path)
    dsn = "host=127.0.0.1 port=1 dbname=x user=postgres password=wrongpass123 connect_timeout=2"
    assert main([*command, "--db", dsn]) == 1
    err = capsys.readouterr().err
    assert err.startswith(
        "error: Could not open the customer store host=127.0.0.1 port=1 dbname=x user=postgres: "
        "the database server cannot be reached"
    )
    assert "wrongpass123" not in err
    assert list(tmp_path.iterdir()) == []


def test_names_postgres_tells_dsns_from_paths() -> None:
    assert names_postgres("postgresql://u@h/db") and names_postgres(" host=h dbname=d")
    assert names_postgres("dbname = d") and names_postgres("service=prod")
    assert not names_postgres("customers.db") and not names_postgres("./host=1.db")
    assert not names_postgres("hosts=1")

"""What export and import print: counts in the singular or plural, one line number for a
line that is not JSON (the file's), and file errors in words with a non-zero exit."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from customer_core import CustomerService, SQLiteStore
from customer_core.cli import main


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

"""The command line reaches a store kept in a PostgreSQL schema of its own
(``PostgresStore(dsn, schema=...)``) through the DSN's ``options=-csearch_path=NAME``
(trial 5: the option was overridden by the store's own search path, silently, and the
commands saw ``public``)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from customer_core import CustomerService
from customer_core.cli import _CommandError, _schema_of, main

from .conftest import IN_CI, POSTGRES, POSTGRES_MISSING


@pytest.mark.parametrize(
    ("dsn", "schema"),
    [
        ("postgresql://app@db.internal/crm", "public"),
        ("postgresql://app@db.internal/crm?options=-csearch_path%3Dsales", "sales"),
        ("host=db.internal dbname=crm options='-c search_path=sales -c work_mem=4MB'", "sales"),
        ("host=db.internal options='-csearch_path=first -csearch_path=second'", "second"),
    ],
)
def test_the_schema_is_the_dsns_search_path(dsn: str, schema: str) -> None:
    assert _schema_of(dsn) == schema


def test_a_search_path_of_several_schemas_is_refused() -> None:
    with pytest.raises(_CommandError) as refused:
        _schema_of("host=db.internal options='-csearch_path=sales,public'")
    assert str(refused.value) == (
        "the DSN's search_path 'sales,public' must name one schema, as in options=-csearch_path=crm"
    )


if POSTGRES_MISSING is None or IN_CI:  # in CI a missing server fails, never skips

    def test_list_reads_the_schema_the_dsn_names(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]
    ) -> None:
        from psycopg.conninfo import make_conninfo

        from customer_core.store.postgres import PostgresStore

        store = POSTGRES(tmp_path)
        assert isinstance(store, PostgresStore) and store.schema != "public"
        made = CustomerService(store).create(email="in.schema@example.com")
        dsn = make_conninfo(store.dsn, options=f"-csearch_path={store.schema}")
        assert main(["list", "--db", dsn]) == 0
        listed = json.loads(capsys.readouterr().out)
        assert [customer["id"] for customer in listed["data"]] == [made.id]

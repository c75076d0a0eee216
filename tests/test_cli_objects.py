"""``customer-core webhooks create|list|retrieve|update|delete`` and ``customer-core tax-ids
create|list|retrieve|delete``: the service's calls for the same HTTP requests, on the data
file, the answers as their bodies, Stripe's errors as one line on stderr; and the note on
stderr when a write's answer replays the one saved for its ``--idempotency-key``."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from customer_core import CustomerService, SQLiteStore
from customer_core.cli import REPLAYED, main

from .test_cli import run
from .test_serve_webhooks import Server

URL = "http://127.0.0.1:9/hooks"
BAD_URL = "error: url: Invalid URL: ftp://x\n"
BAD_LIMIT = "error: limit: This value must be greater than or equal to 1.\n"
BAD_EIN = "error: Invalid value for us_ein.\n"


@pytest.fixture(autouse=True)
def _no_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv("CUSTOMER_CORE_DATA", raising=False)
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg"))
    monkeypatch.setenv("COLUMNS", "1000")


def ok(capsys: pytest.CaptureFixture[str], *argv: str) -> Any:
    """The JSON answer of a command that succeeds and says nothing on stderr."""
    status, body, error = run(capsys, *argv)
    assert (status, error) == (0, "")
    return body


def refused(capsys: pytest.CaptureFixture[str], *argv: str) -> str:
    """The stderr of a command that fails with nothing on stdout."""
    status, body, error = run(capsys, *argv)
    assert (status, body) == (1, None)
    return error


# --- webhook endpoints ------------------------------------------------------------------------


def test_an_endpoint_is_created_listed_retrieved_updated_and_deleted(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data = str(tmp_path / "customers.db")  # created by the endpoint's create
    created = ok(
        capsys,
        "webhooks",
        "create",
        "--db",
        data,
        "-d",
        f"url={URL}",
        "-d",
        "enabled_events[]=customer.created",
        "-d",
        "metadata[team]=crm",
    )
    endpoint_id, secret = created["id"], created["secret"]
    assert endpoint_id.startswith("we_") and secret.startswith("whsec_") and len(secret) == 38
    assert {key: created[key] for key in ("object", "url", "enabled_events", "status")} == {
        "object": "webhook_endpoint",
        "url": URL,
        "enabled_events": ["customer.created"],
        "status": "enabled",
    }
    assert created["metadata"] == {"team": "crm"}
    shown = {key: value for key, value in created.items() if key != "secret"}
    listed = ok(capsys, "webhooks", "list", "--db", data)
    assert (listed["object"], listed["url"], listed["has_more"]) == (
        "list",
        "/v1/webhook_endpoints",
        False,
    )
    assert listed["data"] == [shown]  # no secret but on create
    assert ok(capsys, "webhooks", "retrieve", endpoint_id, "--db", data) == shown
    updated = ok(
        capsys,
        "webhooks",
        "update",
        endpoint_id,
        "--db",
        data,
        "-d",
        "disabled=true",
        "-d",
        "enabled_events[]=*",
    )
    assert updated == {**shown, "status": "disabled", "enabled_events": ["*"]}
    assert ok(capsys, "webhooks", "delete", endpoint_id, "--db", data) == {
        "id": endpoint_id,
        "object": "webhook_endpoint",
        "deleted": True,
    }
    assert ok(capsys, "webhooks", "list", "--db", data)["data"] == []
    for action in ("retrieve", "delete"):
        assert refused(capsys, "webhooks", action, endpoint_id, "--db", data) == (
            f"error: No such webhook endpoint: '{endpoint_id}'\n"
        )
    assert refused(capsys, "webhooks", "update", endpoint_id, "--db", data, "-d", "url=" + URL) == (
        f"error: No such webhook endpoint: '{endpoint_id}'\n"
    )


def test_an_endpoints_bad_params_are_stripes_400s_and_create_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data = str(tmp_path / "customers.db")
    events = "enabled_events[]=*"
    assert refused(
        capsys, "webhooks", "create", "--db", data, "-d", "url=ftp://x", "-d", events
    ) == (BAD_URL)
    assert refused(capsys, "webhooks", "create", "--db", data, "-d", f"url={URL}") == (
        "error: Missing required param: enabled_events.\n"
    )
    assert refused(capsys, "webhooks", "list", "--db", data, "-d", "limit=0") == BAD_LIMIT
    assert ok(capsys, "webhooks", "list", "--db", data)["data"] == []


def test_an_endpoint_created_on_the_command_line_is_served_from_the_same_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data = tmp_path / "customers.db"
    created = ok(
        capsys,
        "webhooks",
        "create",
        "--db",
        str(data),
        "-d",
        f"url={URL}",
        "-d",
        "enabled_events[]=*",
    )
    server = Server("--db", str(data))
    try:
        listed = server.when_ready(lambda client: client.v1.webhook_endpoints.list())
    finally:
        server.terminate()
    assert [(endpoint.id, endpoint.url, endpoint.status) for endpoint in listed.data] == [
        (created["id"], URL, "enabled")
    ]
    assert (
        f"customer_core: events are also delivered to {URL} ({created['id']}, registered "
        f"earlier; DELETE /v1/webhook_endpoints/{created['id']} stops it)\n"
    ) in server.stderr


# --- tax IDs ----------------------------------------------------------------------------------


def test_a_tax_id_is_created_listed_retrieved_and_deleted(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data = str(tmp_path / "customers.db")
    customer_id = ok(capsys, "create", "--db", data, "-d", "name=Jenny")["id"]
    created = ok(
        capsys,
        "tax-ids",
        "create",
        customer_id,
        "--db",
        data,
        "-d",
        "type=eu_vat",
        "-d",
        "value=DE123456789",
    )
    tax_id = created["id"]
    assert tax_id.startswith("txi_")
    assert {key: created[key] for key in ("object", "type", "value", "country", "customer")} == {
        "object": "tax_id",
        "type": "eu_vat",
        "value": "DE123456789",
        "country": "DE",
        "customer": customer_id,
    }
    listed = ok(capsys, "tax-ids", "list", customer_id, "--db", data)
    assert (listed["url"], listed["data"]) == (f"/v1/customers/{customer_id}/tax_ids", [created])
    assert ok(capsys, "tax-ids", "retrieve", customer_id, tax_id, "--db", data) == created
    with SQLiteStore(Path(data)) as store:  # the service sees what the command wrote
        assert CustomerService(store).tax_ids.retrieve(customer_id, tax_id).value == "DE123456789"
    assert ok(capsys, "tax-ids", "delete", customer_id, tax_id, "--db", data) == {
        "id": tax_id,
        "object": "tax_id",
        "deleted": True,
    }
    assert ok(capsys, "tax-ids", "list", customer_id, "--db", data)["data"] == []
    assert refused(capsys, "tax-ids", "retrieve", customer_id, tax_id, "--db", data) == (
        f"error: No such tax id: '{tax_id}'\n"
    )


def test_tax_id_errors_are_stripes(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    data = str(tmp_path / "customers.db")
    customer_id = ok(capsys, "create", "--db", data)["id"]
    assert refused(capsys, "tax-ids", "list", "cus_nobody", "--db", data) == (
        "error: No such customer: 'cus_nobody'\n"
    )
    assert (
        refused(
            capsys,
            "tax-ids",
            "create",
            customer_id,
            "--db",
            data,
            "-d",
            "type=us_ein",
            "-d",
            "value=12",
        )
        == BAD_EIN
    )
    assert ok(capsys, "tax-ids", "list", customer_id, "--db", data)["data"] == []
    missing = tmp_path / "typo.db"
    assert refused(capsys, "tax-ids", "list", customer_id, "--db", str(missing)) == (
        f"error: no data file at {missing} (check --db or $CUSTOMER_CORE_DATA)\n"
    )
    assert not missing.exists()


# --- replays ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "argv",
    [
        ["create", "-d", "email=jenny@example.com"],
        ["webhooks", "create", "-d", f"url={URL}", "-d", "enabled_events[]=*"],
        ["tax-ids", "create", "CUSTOMER", "-d", "type=eu_vat", "-d", "value=DE123456789"],
    ],
)
def test_a_write_replayed_for_its_idempotency_key_says_so_on_stderr(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], argv: list[str]
) -> None:
    data = str(tmp_path / "customers.db")
    customer_id = ok(capsys, "create", "--db", data)["id"]
    argv = [customer_id if arg == "CUSTOMER" else arg for arg in argv]
    first = ok(capsys, *argv, "--db", data, "--idempotency-key", "k1")
    status, again, error = run(capsys, *argv, "--db", data, "--idempotency-key", "k1")
    assert (status, again, error) == (0, first, f"{REPLAYED}\n")
    assert REPLAYED == "replayed: the first answer to this idempotency key"
    other = ok(capsys, *argv, "--db", data, "--idempotency-key", "k2")
    assert other["id"] != first["id"]


def test_a_replayed_error_says_so_too(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """An error after validation is saved for the key, and replayed; a validation error
    is not (a corrected retry runs), so it never says so."""
    data = str(tmp_path / "customers.db")
    ok(capsys, "create", "--db", data, "-d", "invoice_prefix=ABCD")
    taken = (
        "error: invoice_prefix: Invoice prefix ABCD is already in use. Invoice prefixes must be "
        "unique across all customers, including deleted ones.\n"
    )
    argv = ["create", "--db", data, "--idempotency-key", "k1", "-d", "invoice_prefix=ABCD"]
    assert refused(capsys, *argv) == taken
    assert refused(capsys, *argv) == f"{taken}{REPLAYED}\n"
    customer_id = ok(capsys, "list", "--db", data)["data"][0]["id"]
    bad = ["tax-ids", "create", customer_id, "--db", data, "--idempotency-key", "k2"]
    bad += ["-d", "type=us_ein", "-d", "value=12"]
    assert refused(capsys, *bad) == BAD_EIN
    assert refused(capsys, *bad) == BAD_EIN


# --- help -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("argv", "usage", "description", "example"),
    [
        (
            ["webhooks", "create"],
            "customer-core webhooks create [-h] [-d KEY=VALUE] [--idempotency-key KEY] [--db PATH|DSN]",
            "Register a webhook endpoint; the answer holds its signing secret",
            "customer-core webhooks create -d url=https://example.com/hooks",
        ),
        (
            ["webhooks", "update"],
            "customer-core webhooks update [-h] [-d KEY=VALUE] [--idempotency-key KEY] "
            "[--db PATH|DSN] ENDPOINT_ID",
            "Change a webhook endpoint (params: url,",
            "customer-core webhooks update we_1NGd4fJ2eZvKYlo2 -d disabled=true",
        ),
        (
            ["tax-ids", "retrieve"],
            "customer-core tax-ids retrieve [-h] [-d KEY=VALUE] [--db PATH|DSN] CUSTOMER_ID TAX_ID",
            "One of a customer's tax IDs.",
            "customer-core tax-ids retrieve cus_NffrFeUfNV2Hib txi_",
        ),
        (
            ["tax-ids", "create"],
            "customer-core tax-ids create [-h] [-d KEY=VALUE] [--idempotency-key KEY] "
            "[--db PATH|DSN] CUSTOMER_ID",
            "Add a tax ID to a customer (params: type, value).",
            "customer-core tax-ids create cus_NffrFeUfNV2Hib -d type=eu_vat -d value=DE123456789",
        ),
    ],
)
def test_each_new_action_has_its_usage_description_and_example(
    argv: list[str],
    usage: str,
    description: str,
    example: str,
    capsys: pytest.CaptureFixture[str],
) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main([*argv, "--help"])
    assert exit_info.value.code == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == f"usage: {usage}"
    assert lines[2].startswith(description)
    assert lines[-2] == "example:" and lines[-1].startswith(f"  {example}")


def test_webhooks_update_takes_an_idempotency_key(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data = str(tmp_path / "customers.db")
    created = ok(
        capsys, "webhooks", "create", "--db", data, "-d", f"url={URL}", "-d", "enabled_events[]=*"
    )
    update = ["webhooks", "update", created["id"], "--db", data, "--idempotency-key", "u1"]
    first = ok(capsys, *update, "-d", "description=one")
    assert first["description"] == "one"
    ok(capsys, "webhooks", "update", created["id"], "--db", data, "-d", "description=between")
    assert run(capsys, *update, "-d", "description=one") == (0, first, f"{REPLAYED}\n")
    mismatch = refused(capsys, *update, "-d", "description=two")
    assert mismatch.startswith(
        "error: Keys for idempotent requests can only be used with the same parameters"
    )
    assert ok(capsys, "webhooks", "retrieve", created["id"], "--db", data)["description"] == (
        "between"
    )


def test_a_tax_id_create_refuses_a_data_file_that_does_not_exist(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    missing = tmp_path / "new.db"
    argv = ["tax-ids", "create", "cus_x", "--db", str(missing), "-d", "type=eu_vat"]
    status, body, error = run(capsys, *argv, "-d", "value=DE123456789")
    assert (status, body) == (1, None)
    assert error == f"error: no data file at {missing} (check --db or $CUSTOMER_CORE_DATA)\n"
    assert not missing.exists()

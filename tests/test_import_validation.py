"""Imports refuse what they would otherwise change: values of the wrong JSON type, NaN,
live-mode objects, odd files; every refusal names the line, the field and the reason in
customer_core's words, exact counts of what an import did, and a failed import through
the command line leaves no data file behind (issue 15, the new-user trial's findings)."""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

import pytest

from customer_core import CustomerService, MemoryStore, SQLiteStore
from customer_core.cli import main
from customer_core.transfer import TransferError, export_customers, import_customers

from .test_transfer import STRIPE_CUSTOMER
from .test_transfer_cli import interrupted_import, write_customers

HEADER = '{"format":"customer_core.customers","version":1,"api_version":"2026-09-30"}'
END = (
    '{"object":"customer_core.end","customers":%d,"tax_ids":0,"deleted_customers":%d,'
    '"invoice_prefixes":%d}'
)


def customer(**changes: Any) -> str:
    return json.dumps({**STRIPE_CUSTOMER, **changes})


def refused(data: bytes | str) -> TransferError:
    """The error an import of ``data`` into an empty store raises; the store stays empty."""
    service = CustomerService(MemoryStore())
    raw = data.encode() if isinstance(data, str) else data
    with pytest.raises(TransferError) as caught:
        import_customers(service, io.BytesIO(raw))
    assert service.store.count() == 0
    return caught.value


# --- values are refused, not changed -------------------------------------------------

WRONG_VALUES = [
    # Python's json and pydantic accept NaN and Infinity; RFC 8259 does not.
    (
        '{"id":"cus_A1","created":1,"name":NaN}',
        None,
        "not valid JSON (expected value at column 35): "
        "NaN, Infinity and -Infinity are not JSON numbers (RFC 8259)",
    ),
    (
        '{"id":"cus_A1","created":1,"balance":-Infinity}',
        None,
        "not valid JSON (invalid number at column 39): "
        "NaN, Infinity and -Infinity are not JSON numbers (RFC 8259)",
    ),
    (
        customer(livemode="yes"),
        "livemode",
        'Invalid boolean: "yes"; expected true or false, not a string',
    ),
    (
        customer(delinquent=1),
        "delinquent",
        "Invalid boolean: 1; expected true or false, not an integer",
    ),
    (
        customer(metadata={"a": 1}),
        "metadata[a]",
        "Invalid string: 1; expected a JSON string, not an integer",
    ),
    (
        customer(metadata={"a": None}),
        "metadata[a]",
        "Invalid string: null; expected a JSON string, not null",
    ),
    (customer(name=5), "name", "Invalid string: 5; expected a JSON string, not an integer"),
    (
        customer(address={"city": True}),
        "address[city]",
        "Invalid string: true; expected a JSON string, not a boolean",
    ),
    (
        customer(preferred_locales=["en", 7]),
        "preferred_locales[1]",
        "Invalid string: 7; expected a JSON string, not an integer",
    ),
    (
        customer(balance="100"),
        "balance",
        'Invalid integer: "100"; expected a JSON integer, not a string',
    ),
    (
        customer(created=1680893993.0),
        "created",
        "Invalid integer: 1680893993.0; expected a JSON integer, not a decimal number",
    ),
    (
        customer(address="Berlin"),
        "address",
        'Invalid object: "Berlin"; expected a JSON object, not a string',
    ),
    (customer(object="charge"), "object", 'Invalid object: "charge"; must be customer'),
    (
        customer(tax_exempt="sometimes"),
        "tax_exempt",
        'Invalid tax_exempt: "sometimes"; must be one of exempt, none, or reverse',
    ),
    (
        '{"object":"customer","created":1}',
        "id",
        "Missing required field: every customer has one",
    ),
    (
        customer(livemode=True),
        "livemode",
        "this object is from Stripe's live mode (livemode true), and customer_core holds "
        "test-mode objects only; import test-mode data, or set livemode to false in the file "
        "to load live data as test data",
    ),
    (
        customer(discount={"foo": "bar"}),
        "discount",
        'Invalid discount: {"foo": "bar"}; expected null or a Stripe discount object '
        '({"id": "di_...", "object": "discount", ...})',
    ),
    (
        customer(emial="jenny@example.com"),
        "emial",
        "unknown field: not part of a customer in Stripe API version 2026-09-30",
    ),
    (
        customer(account_balance=5, balance=0),
        "account_balance",
        "account_balance (its name before Stripe renamed it balance) differs from balance: 5 and 0",
    ),
    (
        '{"id":"cus_A1","object":"customer","deleted":true,"created":"5"}',
        "created",
        'Invalid integer: "5"; expected a JSON integer, not a string',
    ),
    (
        '{"id":"cus_A1","object":"customer","deleted":true,"created":5,"invoice_prefix":12}',
        "invoice_prefix",
        "Invalid string: 12; expected a JSON string, not an integer",
    ),
]


@pytest.mark.parametrize(("line", "param", "reason"), WRONG_VALUES)
def test_a_value_of_the_wrong_kind_is_refused_with_line_field_and_reason(
    line: str, param: str | None, reason: str
) -> None:
    error = refused(f"{customer(id='cus_First1', invoice_prefix='FIRST')}\n{line}\n")
    assert (error.line, error.param, error.reason) == (2, param, reason)
    where = f"line 2: {param}: " if param else "line 2: "
    assert error.message == where + reason
    assert "Input should" not in error.message  # pydantic's words never reach a user


TAX_ID: dict[str, Any] = {
    "id": "txi_1NuMB12eZvKYlo2CMecoWkZd",
    "object": "tax_id",
    "country": "DE",
    "created": 123456789,
    "customer": STRIPE_CUSTOMER["id"],
    "livemode": False,
    "owner": {"customer": STRIPE_CUSTOMER["id"], "type": "customer"},
    "type": "eu_vat",
    "value": "DE123456789",
    "verification": {"status": "pending", "verified_address": None, "verified_name": None},
}
"""A customer's tax ID as Stripe writes it, belonging to STRIPE_CUSTOMER."""


def test_a_tax_id_of_the_wrong_kind_or_live_mode_is_refused_in_our_words() -> None:
    for changes, param, reason in [
        ({"livemode": "no"}, "livemode", 'Invalid boolean: "no"; expected true or false'),
        ({"created": "1"}, "created", 'Invalid integer: "1"; expected a JSON integer'),
        ({"value": 123}, "value", "Invalid string: 123; expected a JSON string"),
        ({"livemode": True}, "livemode", "this object is from Stripe's live mode"),
    ]:
        error = refused(f"{customer()}\n{json.dumps({**TAX_ID, **changes})}\n")
        assert (error.line, error.param) == (2, param)
        assert error.reason.startswith(reason)


def test_a_customers_tax_id_with_stripes_null_account_and_application_is_imported() -> None:
    owner = {
        "account": None,
        "application": None,
        "customer": STRIPE_CUSTOMER["id"],
        "customer_account": None,
        "type": "customer",
    }
    line = json.dumps({**TAX_ID, "owner": owner})
    service = CustomerService(MemoryStore())
    result = import_customers(service, io.BytesIO(f"{customer()}\n{line}\n".encode()))
    assert result.tax_ids == 1
    stored = service.tax_ids.retrieve(STRIPE_CUSTOMER["id"], TAX_ID["id"])
    assert stored.to_dict()["owner"] == {
        "customer": STRIPE_CUSTOMER["id"],
        "customer_account": None,
        "type": "customer",
    }


@pytest.mark.parametrize("name", ["account", "application"])
def test_a_tax_id_an_account_or_application_owns_is_refused(name: str) -> None:
    owner = {name: "acct_1Nv0FGQ9RKHgCVdK", "type": name}
    error = refused(f"{customer()}\n{json.dumps({**TAX_ID, 'owner': owner})}\n")
    assert (error.line, error.param) == (2, f"owner[{name}]")
    assert error.reason == (
        f"this tax ID belongs to an {name}, and customer_core keeps the tax IDs of customers only"
    )


def test_a_stripe_discount_is_kept_as_given() -> None:
    discount = {
        "id": "di_1Q2w3E4r5T6y7U8i",
        "object": "discount",
        "customer": STRIPE_CUSTOMER["id"],
        "source": {"coupon": "SUMMER", "type": "coupon"},
        "start": 1680893993,
        "end": None,
    }
    service = CustomerService(MemoryStore())
    import_customers(service, io.BytesIO(customer(discount=discount).encode()))
    assert service.retrieve(STRIPE_CUSTOMER["id"]).to_dict()["discount"] == discount


def test_fields_of_earlier_api_versions_are_read_under_their_new_names_or_dropped() -> None:
    older = {key: value for key, value in STRIPE_CUSTOMER.items() if key != "balance"}
    older.update(
        account_balance=-700,
        default_card="card_1Ab2Cd3Ef4",
        cards={"object": "list", "data": [], "has_more": False, "url": "/v1/customers/x/cards"},
        tax_info=None,
        tax_info_verification=None,
    )
    service = CustomerService(MemoryStore())
    import_customers(service, io.BytesIO(json.dumps(older).encode()))
    stored = service.retrieve(STRIPE_CUSTOMER["id"]).to_dict()
    assert (stored["balance"], stored["default_source"]) == (-700, "card_1Ab2Cd3Ef4")
    assert not {"account_balance", "default_card", "cards", "tax_info"} & set(stored)


def test_expanded_references_are_imported_as_their_ids() -> None:
    card = {"id": "card_1Ab2Cd3Ef4", "object": "card", "brand": "Visa", "last4": "4242"}
    clock = {"id": "clock_1Ab2Cd3Ef4", "object": "test_helpers.test_clock", "status": "ready"}
    method = {"id": "pm_1Ab2Cd3Ef4", "object": "payment_method", "type": "card"}
    expanded = {
        **STRIPE_CUSTOMER,
        "default_source": card,
        "test_clock": clock,
        "invoice_settings": {
            **STRIPE_CUSTOMER["invoice_settings"],
            "default_payment_method": method,
        },
    }
    service = CustomerService(MemoryStore())
    import_customers(service, io.BytesIO(json.dumps(expanded).encode()))
    stored = service.retrieve(STRIPE_CUSTOMER["id"]).to_dict()
    assert (stored["default_source"], stored["test_clock"]) == (
        "card_1Ab2Cd3Ef4",
        "clock_1Ab2Cd3Ef4",
    )
    assert stored["invoice_settings"]["default_payment_method"] == "pm_1Ab2Cd3Ef4"


@pytest.mark.parametrize(
    ("changes", "param"),
    [
        ({"default_source": {"object": "card"}}, "default_source"),
        ({"test_clock": {"id": 5}}, "test_clock"),
        (
            {
                "invoice_settings": {
                    **STRIPE_CUSTOMER["invoice_settings"],
                    "default_payment_method": {},
                }
            },
            "invoice_settings[default_payment_method]",
        ),
    ],
)
def test_an_expanded_reference_without_an_id_is_refused(
    changes: dict[str, Any], param: str
) -> None:
    error = refused(customer(**changes) + "\n")
    assert (error.line, error.param) == (1, param)
    assert error.reason.startswith("an expanded object without an id: ")


# --- conflicts name the option of the interface used ---------------------------------


def test_a_conflict_names_on_conflict_in_python_and_the_flag_on_the_command_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data = f"{customer()}\n{customer()}\n"
    error = refused(data)
    assert error.code == "resource_already_exists"
    assert error.message == (
        f"line 2: id: customer {STRIPE_CUSTOMER['id']} already exists (in the store or earlier "
        'in the file); pass on_conflict="skip" or on_conflict="replace" to import over it'
    )
    source = tmp_path / "in.jsonl"
    source.write_text(data)
    assert main(["import", str(source), "--db", str(tmp_path / "new.db")]) == 1
    assert capsys.readouterr().err == (
        f"error: line 2: id: customer {STRIPE_CUSTOMER['id']} already exists (in the store or "
        "earlier in the file); pass --on-conflict skip or --on-conflict replace to import "
        "over it\nnothing was imported\n"
    )


# --- a failed import leaves no data file ---------------------------------------------


@pytest.mark.parametrize(
    "content", ["", '{"id":"cus_A1","created":1,"name":NaN}\n', f"{customer()}\n{customer()}\n"]
)
def test_a_failed_import_into_a_new_data_file_leaves_no_file(
    tmp_path: Path, content: str, capsys: pytest.CaptureFixture[str]
) -> None:
    source = tmp_path / "in.jsonl"
    source.write_text(content)
    target = tmp_path / "new.sqlite"
    assert main(["import", str(source), "--db", str(target)]) == 1
    assert "nothing was imported" in capsys.readouterr().err
    assert sorted(path.name for path in tmp_path.iterdir()) == ["in.jsonl"]


def test_a_failed_import_into_an_existing_file_keeps_it_as_it_was(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    target = tmp_path / "kept.sqlite"
    with SQLiteStore(target) as store:
        CustomerService(store).create(email="kept@example.com")
        before = store.snapshot()
    source = tmp_path / "in.jsonl"
    source.write_text(customer(name=5) + "\n")
    assert main(["import", str(source), "--db", str(target)]) == 1
    capsys.readouterr()
    with SQLiteStore(target) as store:
        assert store.snapshot() == before


# --- exact counts ----------------------------------------------------------------------


def test_a_skip_reimport_counts_nothing_as_imported(service: CustomerService) -> None:
    kept = service.create(invoice_prefix="OLD1")
    service.update(kept.id, invoice_prefix="NEW1")
    service.delete(service.create(invoice_prefix="GONE1").id)
    service.tax_ids.create(kept.id, type="eu_vat", value="DE123456789")
    data = io.BytesIO()
    export_customers(service, data)
    fresh = CustomerService(MemoryStore())
    first = import_customers(fresh, io.BytesIO(data.getvalue()))
    assert (first.created, first.tax_ids, first.deleted_customers, first.invoice_prefixes) == (
        1,
        1,
        1,
        1,
    )
    again = import_customers(service, io.BytesIO(data.getvalue()), on_conflict="skip")
    assert (again.created, again.replaced, again.skipped) == (0, 0, 1)
    assert (again.tax_ids, again.tax_ids_replaced, again.tax_ids_skipped) == (0, 0, 1)
    assert (again.deleted_customers, again.deleted_customers_skipped) == (0, 1)
    assert (again.invoice_prefixes, again.invoice_prefixes_skipped) == (0, 1)
    replaced = import_customers(service, io.BytesIO(data.getvalue()), on_conflict="replace")
    assert (replaced.created, replaced.replaced, replaced.skipped) == (0, 1, 0)
    assert (replaced.tax_ids, replaced.tax_ids_replaced) == (0, 1)
    assert (replaced.deleted_customers, replaced.deleted_customers_skipped) == (0, 1)
    assert (replaced.invoice_prefixes, replaced.invoice_prefixes_skipped) == (0, 1)


def test_the_command_line_summary_says_what_was_already_there(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    source = tmp_path / "in.jsonl"
    deleted = '{"id":"cus_Gone1","object":"customer","deleted":true,"created":1}'
    prefix = (
        '{"object":"customer_core.invoice_prefix","customer":"cus_Gone1","invoice_prefix":"G2"}'
    )
    source.write_text("\n".join([HEADER, customer(), deleted, prefix, END % (1, 1, 1)]) + "\n")
    target = tmp_path / "db.sqlite"
    assert main(["import", str(source), "--db", str(target)]) == 0
    assert capsys.readouterr().err == (
        "imported 1 new customer (0 replaced, 0 skipped), 0 tax IDs, 1 deleted customer, "
        "1 former invoice prefix\n"
    )
    assert main(["import", str(source), "--db", str(target), "--on-conflict", "skip"]) == 0
    assert capsys.readouterr().err == (
        "imported 0 new customers (0 replaced, 1 skipped), 0 tax IDs, "
        "0 deleted customers (1 already there), 0 former invoice prefixes (1 already there)\n"
    )


# --- odd files -----------------------------------------------------------------------


@pytest.mark.parametrize("content", [b"", b"\n\n", b"  \r\n"])
def test_an_empty_file_is_an_error_naming_the_header(content: bytes) -> None:
    error = refused(content)
    assert error.message == (
        'line 1: the file is empty: an import reads a header line ({"format":'
        '"customer_core.customers",...}, as an export starts) or customers, one a line'
    )


def test_an_end_line_without_a_header_is_not_read_as_a_customer() -> None:
    error = refused(END % (0, 0, 0))
    assert error.message == (
        "line 1: an export's end line, but the file has no header line (an export starts with one)"
    )
    error = refused(f"{customer()}\n{END % (1, 0, 0)}\n")
    assert error.line == 2


def test_a_byte_order_mark_crlf_line_ends_and_blank_lines_are_accepted() -> None:
    second = customer(id="cus_Second1", invoice_prefix="SECOND")
    data = f"\ufeff{HEADER}\r\n{customer()}\r\n\r\n  \r\n{second}\r\n{END % (2, 0, 0)}\r\n"
    service = CustomerService(MemoryStore())
    result = import_customers(service, io.BytesIO(data.encode()))
    assert result.created == 2
    assert service.retrieve("cus_Second1").invoice_prefix == "SECOND"  # type: ignore[union-attr]


def test_a_byte_order_mark_elsewhere_is_not_json() -> None:
    error = refused(f"{customer()}\n\ufeff{customer(id='cus_B2', invoice_prefix='B2')}\n")
    assert error.line == 2
    assert error.reason.startswith("not valid JSON (expected value at column 1")


def test_a_header_of_a_future_version_is_refused_whatever_it_holds() -> None:
    future = '{"format":"customer_core.customers","version":2,"api_version":"2027-01-01","x":1}'
    error = refused(f"{future}\n{customer()}\n")
    assert error.message == (
        "line 1: version: format version 2 was written by a newer customer_core; "
        "this one reads version 1"
    )
    error = refused('{"format":"customer_core.customers","version":"1","api_version":"x"}\n')
    assert error.message == (
        'line 1: version: Invalid integer: "1"; expected a JSON integer, not a string'
    )


def test_a_truncated_last_line_says_it_was_cut_short() -> None:
    data = f"{customer()}\n" + customer(id="cus_Cut1", invoice_prefix="CUT")[:40]
    error = refused(data)
    assert error.line == 2
    assert error.reason == (
        "not valid JSON (EOF while parsing a value at column 40): "
        "the line ends before its JSON does (cut short?)"
    )
    assert refused(f"{HEADER}\n{customer()}\n").message == (
        "end of file: the file ends before the export's end line: it was cut short "
        "(an export always ends with one)"
    )


def test_duplicates_within_one_file_are_errors_with_their_line() -> None:
    other = customer(id="cus_Other1")  # the same invoice prefix as the first
    assert refused(f"{customer()}\n{other}\n").message == (
        "line 2: invoice_prefix: Invoice prefix 0759376C is already in use. Invoice prefixes "
        "must be unique across all customers, including deleted ones."
    )
    deleted = json.dumps(
        {"id": STRIPE_CUSTOMER["id"], "object": "customer", "deleted": True, "created": 1}
    )
    for data in (f"{customer()}\n{deleted}\n", f"{deleted}\n{customer()}\n"):
        error = refused(data)
        assert (error.line, error.param, error.code) == (2, "id", "resource_already_exists")
        assert error.reason == (
            f"customer {STRIPE_CUSTOMER['id']} already exists (in the store or earlier in the file)"
        )


def test_an_interrupted_import_into_a_new_data_file_leaves_no_file(tmp_path: Path) -> None:
    source = tmp_path / "big.jsonl"
    write_customers(source, 12_000)
    target = tmp_path / "new.db"
    process, stderr = interrupted_import(target, source, "interrupt")
    assert process.returncode == 130, stderr
    assert stderr.decode().endswith("interrupted: nothing was imported\n")
    assert sorted(path.name for path in tmp_path.iterdir()) == ["big.jsonl"]


def test_text_that_is_not_utf8_says_so() -> None:
    utf16 = (customer() + "\n").encode("utf-16")
    assert refused(utf16).message == (
        "line 1: not valid JSON (expected value at column 1): the file is UTF-16 (it starts "
        "with a UTF-16 byte order mark); an import reads UTF-8, as JSON is exchanged "
        "(RFC 8259): convert it first, for example with iconv -f UTF-16 -t UTF-8"
    )
    latin1 = '{"id":"cus_A1","created":1,"name":"Andr\xe9"}\n'.encode("latin-1")
    assert refused(latin1).message == (
        "line 1: not valid JSON (invalid unicode code point at column 40): "
        "the line is not UTF-8 text, as JSON is exchanged (RFC 8259)"
    )

"""Import and export as JSON lines (issue 15): the format, round trips between every pair
of stores, Stripe's own objects, bad input, conflicts, and all-or-nothing imports."""

from __future__ import annotations

import dataclasses
import io
import json
from pathlib import Path
from typing import Any

import pytest

from customer_core import CustomerService, MemoryStore, SQLiteStore, Store
from customer_core import transfer as transfer_module
from customer_core.testing import FakeClock
from customer_core.transfer import TransferError, export_customers, import_customers

from .conftest import NOW, STORE_FACTORIES
from .test_customer_object import EXPECTED_DEFAULT

PAIRS = [
    (source, target) for source in sorted(STORE_FACTORIES) for target in sorted(STORE_FACTORIES)
]

# Stripe's example response (API 2023: no customer_account yet), key for key.
STRIPE_CUSTOMER: dict[str, Any] = {
    **{key: value for key, value in EXPECTED_DEFAULT.items() if key != "customer_account"},
    "id": "cus_NffrFeUfNV2Hib",
    "created": 1680893993,
    "email": "jennyrosen@example.com",
    "invoice_prefix": "0759376C",
    "name": "Jenny Rosen",
}


def make_store(kind: str, path: Path) -> Store:
    path.mkdir(parents=True, exist_ok=True)
    return STORE_FACTORIES[kind](path)


def fill(service: CustomerService, clock: FakeClock) -> None:
    """Customers with every kind of field, deleted ones and former invoice prefixes."""
    jenny = service.create(
        name="Jenny Rosen",
        email="jenny@example.com",
        phone="+15555550123",
        description='Café owner — ünïcode \u2603 and "quotes" \\ backslash',
        address={"city": "Paris", "country": "FR", "line1": "1 rue de Rivoli"},
        shipping={"name": "Jenny", "address": {"city": "Lyon"}, "phone": "+331"},
        metadata={"plan": "gold", "seats": 3},
        preferred_locales=["fr", "en"],
        invoice_settings={
            "custom_fields": [{"name": "VAT", "value": "FR123"}],
            "footer": "Thanks",
            "rendering_options": {"amount_tax_display": "exclude_tax"},
        },
        balance=-500,
        next_invoice_sequence=7,
        tax_exempt="reverse",
        business_name="Rosen SARL",
    )
    service.tax_ids.create(jenny.id, type="eu_vat", value="FR12345678901")
    clock.advance(10)
    for n in range(5):
        service.create(email=f"user{n}@example.com", individual_name=f"User {n}")
    service.create(tax_id_data=[{"type": "gb_vat", "value": "GB123456789"}])
    service.tax_ids.create(jenny.id, type="us_ein", value="12-3456789")
    clock.advance(5)
    renamed = service.create(invoice_prefix="FIRST")
    service.update(renamed.id, invoice_prefix="SECOND")
    service.update(renamed.id, invoice_prefix="THIRD")
    gone = service.create(email="gone@example.com")
    service.update(gone.id, invoice_prefix="GONEA")
    service.delete(gone.id)
    service.delete(service.create().id)
    service.update(jenny.id, metadata={"seats": ""})


def exported(store: Store | CustomerService, order: str = "newest") -> bytes:
    target = io.BytesIO()
    export_customers(store, target, order=order)  # type: ignore[arg-type]
    return target.getvalue()


def lines_of(data: bytes) -> list[dict[str, Any]]:
    return [json.loads(line) for line in data.splitlines()]


@pytest.fixture
def filled(service: CustomerService, clock: FakeClock) -> CustomerService:
    fill(service, clock)
    return service


# --- the format ---------------------------------------------------------------------


def test_export_writes_header_customers_as_the_api_returns_them_tombstones_and_end(
    filled: CustomerService,
) -> None:
    data = exported(filled)
    lines = data.splitlines()
    assert (
        lines[0] == b'{"format":"customer_core.customers","version":1,"api_version":"2026-09-30"}'
    )
    customers = [
        filled.retrieve(record["id"]) for record in filled.list(limit=100).to_dict()["data"]
    ]
    assert lines[1:9] == [customer.to_json() for customer in customers]
    snapshot = filled.store.snapshot()
    by_customer = sorted(snapshot["tax_ids"], key=lambda t: (t["customer"], t["created"], t["id"]))
    assert [json.loads(line) for line in lines[9:12]] == [
        filled.tax_ids.retrieve(tax_id["customer"], tax_id["id"]).to_dict()
        for tax_id in by_customer
    ]
    tombstones = sorted(snapshot["tombstones"].items())
    prefixes: dict[str, list[str]] = {}
    for prefix, holder in sorted(snapshot["invoice_prefixes"].items()):
        prefixes.setdefault(holder, []).append(prefix)
    assert [json.loads(line) for line in lines[12:14]] == [
        {
            "id": customer_id,
            "object": "customer",
            "deleted": True,
            "created": created,
            "invoice_prefix": prefixes[customer_id][0],
        }
        for customer_id, created in tombstones
    ]
    tombstone_ids = {customer_id for customer_id, _ in tombstones}
    former = sorted(
        (holder, prefix)
        for holder, held in prefixes.items()
        for prefix in held[1 if holder in tombstone_ids else 0 :]
        if holder in tombstone_ids or prefix != filled.retrieve(holder).invoice_prefix  # type: ignore[union-attr]
    )
    renamed = next(c for c in customers if c.invoice_prefix == "THIRD")
    assert (renamed.id, "FIRST") in former and (renamed.id, "SECOND") in former
    assert [json.loads(line) for line in lines[14:-1]] == [
        {"object": "customer_core.invoice_prefix", "customer": c, "invoice_prefix": p}
        for c, p in former
    ]
    assert json.loads(lines[-1]) == {
        "object": "customer_core.end",
        "customers": 8,
        "tax_ids": 3,
        "deleted_customers": 2,
        "invoice_prefixes": len(former),
    }


def test_export_orders_customers_newest_or_oldest_first(filled: CustomerService) -> None:
    newest = [line["id"] for line in lines_of(exported(filled, "newest"))[1:9]]
    oldest = [line["id"] for line in lines_of(exported(filled, "oldest"))[1:9]]
    assert newest == [record["id"] for record in filled.list(limit=100).to_dict()["data"]]
    assert oldest == newest[::-1]


def test_export_result_counts_what_was_written(filled: CustomerService) -> None:
    result = export_customers(filled, io.BytesIO())
    assert (result.customers, result.tax_ids, result.deleted_customers) == (8, 3, 2)
    assert result.invoice_prefixes == 3


# --- round trips -------------------------------------------------------------------


@pytest.mark.parametrize(("source_kind", "target_kind"), PAIRS)
@pytest.mark.parametrize("order", ["newest", "oldest"])
def test_round_trip_between_stores_is_byte_identical(
    tmp_path: Path, source_kind: str, target_kind: str, order: str
) -> None:
    clock = FakeClock(NOW)
    with make_store(source_kind, tmp_path / "a") as source:
        fill(CustomerService(source, clock=clock, seed=3), clock)
        first = exported(source, order)
        before = source.snapshot()
    with make_store(target_kind, tmp_path / "b") as target:
        result = import_customers(CustomerService(target), io.BytesIO(first))
        assert (result.created, result.tax_ids, result.deleted_customers) == (8, 3, 2)
        assert result.invoice_prefixes == 3
        assert exported(target, order) == first
        after = target.snapshot()
        target.check_consistency()
    # Not only the file: the whole content (prefix reservations included) came across.
    for part in ("customers", "tombstones", "invoice_prefixes", "tax_ids"):
        assert after[part] == before[part]


def test_export_to_a_path_leaves_no_partial_file(filled: CustomerService, tmp_path: Path) -> None:
    path = tmp_path / "exports" / "out.jsonl"
    path.parent.mkdir()
    export_customers(filled, path)
    assert path.read_bytes() == exported(filled)
    assert [p.name for p in path.parent.iterdir()] == ["out.jsonl"]


def test_a_failed_export_to_a_path_leaves_no_file(tmp_path: Path) -> None:
    store = MemoryStore()
    store.close()
    with pytest.raises(Exception, match="closed"):
        export_customers(store, tmp_path / "out.jsonl")
    assert list(tmp_path.iterdir()) == []


def test_export_from_sqlite_is_one_snapshot_while_another_process_writes(tmp_path: Path) -> None:
    path = tmp_path / "customers.db"
    clock = FakeClock(NOW)
    with SQLiteStore(path) as store, SQLiteStore(path) as other_process:
        service = CustomerService(store, clock=clock)
        for _ in range(3):
            service.create()
        writer = CustomerService(other_process)

        class WritesMeanwhile(io.BytesIO):
            def write(self, data: Any) -> int:
                # Every write of the export lets another connection change the file.
                customer = writer.create(email="late@example.com")
                writer.delete(customer.id)
                return super().write(data)

        target = WritesMeanwhile()
        result = export_customers(store, target)
        assert (result.customers, result.deleted_customers) == (3, 0)
        assert store.count() == 3 and len(store.snapshot()["tombstones"]) > 0


# --- Stripe's objects ---------------------------------------------------------------


def test_stripe_customers_keep_their_14_character_ids_and_created(service: CustomerService) -> None:
    line = json.dumps(STRIPE_CUSTOMER).encode()
    result = import_customers(service, io.BytesIO(line + b"\n"))
    assert result.created == 1
    customer = service.retrieve("cus_NffrFeUfNV2Hib")
    assert customer.created == 1680893993
    assert customer.to_dict() == {**STRIPE_CUSTOMER, "customer_account": None}
    assert [c.id for c in service.list().data] == ["cus_NffrFeUfNV2Hib"]
    with pytest.raises(Exception, match="already in use"):
        service.create(invoice_prefix="0759376C")


def test_fields_only_stripe_sets_are_kept_and_expansions_dropped(service: CustomerService) -> None:
    live = {
        **STRIPE_CUSTOMER,
        "id": "cus_LiveAbc123xyz9",
        "livemode": False,  # live-mode objects are refused: tests/test_import_validation.py
        "currency": "usd",
        "default_source": "card_1NBwGs2eZvKYlo2C",
        "delinquent": True,
        "balance": 2500,
        "discount": {"id": "di_1", "object": "discount", "coupon": {"id": "SUMMER"}},
        "invoice_settings": {
            **STRIPE_CUSTOMER["invoice_settings"],
            "default_payment_method": "pm_1",
        },
        "shipping": {
            "address": {
                "city": "Berlin",
                "country": "DE",
                "line1": "Unter den Linden 1",
                "line2": None,
                "postal_code": "10117",
                "state": None,
            },
            "carrier": "DHL",
            "name": "Jenny",
            "phone": None,
            "tracking_number": "TRK1",
        },
        "sources": {
            "object": "list",
            "data": [],
            "has_more": False,
            "url": "/v1/customers/x/sources",
        },
        "tax_ids": {
            "object": "list",
            "data": [],
            "has_more": False,
            "url": "/v1/customers/x/tax_ids",
        },
    }
    import_customers(service, io.BytesIO(json.dumps(live).encode()))
    body = service.retrieve(live["id"]).to_dict()
    expected = {k: v for k, v in live.items() if k not in ("sources", "tax_ids")}
    assert body == {**expected, "customer_account": None}


def test_a_stripe_cli_list_page_imports_pretty_printed_or_one_per_line(
    service: CustomerService,
) -> None:
    page = {
        "object": "list",
        "data": [
            STRIPE_CUSTOMER,
            {**STRIPE_CUSTOMER, "id": "cus_Second12345678", "invoice_prefix": "AB12"},
        ],
        "has_more": False,
        "url": "/v1/customers",
    }
    result = import_customers(service, io.BytesIO(json.dumps(page, indent=2).encode()))
    assert result.created == 2
    other = CustomerService(MemoryStore())
    result = import_customers(other, io.BytesIO(json.dumps(page).encode() + b"\n"))
    assert result.created == 2
    assert exported(other) == exported(service)


def test_headerless_lines_and_blank_lines_import(service: CustomerService) -> None:
    data = b"\n".join(
        [
            json.dumps(STRIPE_CUSTOMER).encode(),
            b"",
            b"   ",
            json.dumps({**STRIPE_CUSTOMER, "id": "cus_x2", "invoice_prefix": "X2"}).encode(),
        ]
    )
    assert import_customers(service, io.BytesIO(data)).created == 2


def test_a_missing_invoice_prefix_is_made_as_create_makes_one(service: CustomerService) -> None:
    objects = [{**STRIPE_CUSTOMER, "id": f"cus_np{n}", "invoice_prefix": None} for n in range(3)]
    data = b"\n".join(json.dumps(o).encode() for o in objects)
    import_customers(service, io.BytesIO(data))
    prefixes = {service.retrieve(f"cus_np{n}").invoice_prefix for n in range(3)}  # type: ignore[union-attr]
    assert len(prefixes) == 3
    assert all(p is not None and len(p) == 8 and p == p.upper() for p in prefixes)


# --- bad input: line, field and reason; nothing imported ---------------------------

GOOD = json.dumps(STRIPE_CUSTOMER)


def customer_line(**changes: Any) -> str:
    return json.dumps({**STRIPE_CUSTOMER, "id": "cus_Bad1", "invoice_prefix": "BAD1", **changes})


BAD_LINES = [
    ("{not json", None, "not valid JSON"),
    ("[1, 2]", None, "expected a JSON object"),
    (customer_line(email="not-an-email"), "email", "Invalid email address: not-an-email"),
    (customer_line(invoice_prefix="lower"), "invoice_prefix", "must be 1 to 12 uppercase"),
    (customer_line(name="x" * 257), "name", "must be at most 256 characters"),
    (customer_line(phone="1" * 21), "phone", "must be at most 20 characters"),
    (
        customer_line(metadata={f"k{n}": "v" for n in range(51)}),
        "metadata",
        "Metadata can have up to 50 keys",
    ),
    (customer_line(metadata={"k" * 41: "v"}), "metadata", "must be a string under 40 characters"),
    (customer_line(metadata={"k": "v" * 501}), "metadata", "under 500 characters"),
    (
        customer_line(metadata={"k": {"nested": 1}}),
        "metadata[k]",
        'Invalid string: {"nested": 1}; expected a JSON string, not an object',
    ),
    (
        customer_line(tax_exempt="sometimes"),
        "tax_exempt",
        'Invalid tax_exempt: "sometimes"; must be one of exempt, none, or reverse',
    ),
    (customer_line(next_invoice_sequence=0), "next_invoice_sequence", "greater than or equal to 1"),
    (customer_line(created=-1), "created", "greater than or equal to 0"),
    (customer_line(created="yesterday"), "created", "Invalid integer"),
    (customer_line(id="user_1"), "id", "Invalid customer id"),
    (customer_line(emial="jenny@example.com"), "emial", "unknown field"),
    (customer_line(livemode="maybe"), "livemode", "valid boolean"),
    (
        customer_line(invoice_settings={"custom_fields": [{"name": "n" * 41, "value": "v"}]}),
        "invoice_settings[custom_fields][0][name]",
        "at most 40 characters",
    ),
    (customer_line(object="invoice"), "object", 'Invalid object: "invoice"; must be customer'),
    (
        json.dumps({"id": "cus_T1", "object": "customer", "deleted": True, "created": "x"}),
        "created",
        "Invalid integer",
    ),
    (
        json.dumps(
            {
                "object": "customer_core.invoice_prefix",
                "customer": "cus_Unknown",
                "invoice_prefix": "ZZ",
            }
        ),
        "customer",
        "no customer cus_Unknown",
    ),
    (
        '{"format":"customer_core.customers","version":1,"api_version":"2026-09-30"}',
        None,
        "only allowed as the first line",
    ),
]


@pytest.mark.parametrize(("bad", "param", "reason"), BAD_LINES)
def test_a_bad_line_names_its_number_field_and_reason_and_imports_nothing(
    filled: CustomerService, bad: str, param: str | None, reason: str
) -> None:
    before = filled.store.snapshot()
    other = json.dumps({**STRIPE_CUSTOMER, "id": "cus_Good2", "invoice_prefix": "GOOD2"})
    data = "\n".join([GOOD, other, bad, GOOD.replace("cus_Nff", "cus_Zzz")]).encode()
    with pytest.raises(TransferError) as caught:
        import_customers(filled, io.BytesIO(data))
    error = caught.value
    assert error.line == 3
    assert error.param == param
    assert reason in error.reason
    assert error.message.startswith(f"line 3: {param}: " if param else "line 3: ")
    assert filled.store.snapshot() == before


def test_an_error_after_many_chunks_still_imports_nothing(
    filled: CustomerService, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(transfer_module, "_CHUNK", 7)
    before = filled.store.snapshot()
    lines = [customer_line(id=f"cus_Many{n}", invoice_prefix=f"MANY{n}") for n in range(50)]
    lines.append(customer_line(id="cus_Last", email="broken"))
    with pytest.raises(TransferError, match="line 51: email"):
        import_customers(filled, io.BytesIO("\n".join(lines).encode()))
    assert filled.store.snapshot() == before


def test_a_newer_format_version_is_refused(service: CustomerService) -> None:
    header = b'{"format":"customer_core.customers","version":2,"api_version":"2027-01-01"}\n'
    with pytest.raises(
        TransferError, match="line 1: version: format version 2 was written by a newer"
    ):
        import_customers(service, io.BytesIO(header))


def test_an_export_cut_short_is_refused(filled: CustomerService) -> None:
    data = exported(filled)
    cut = b"\n".join(data.splitlines()[:5]) + b"\n"
    target = CustomerService(MemoryStore())
    with pytest.raises(
        TransferError, match="end of file: the file ends before the export's end line"
    ):
        import_customers(target, io.BytesIO(cut))
    assert target.store.count() == 0
    edited = data.replace(b'"customers":8', b'"customers":9')
    with pytest.raises(TransferError, match="end line counts"):
        import_customers(target, io.BytesIO(edited))
    with pytest.raises(TransferError, match="nothing may follow"):
        import_customers(target, io.BytesIO(data + GOOD.encode() + b"\n"))
    assert target.store.count() == 0


def test_an_invoice_prefix_held_by_another_customer_is_refused(filled: CustomerService) -> None:
    before = filled.store.snapshot()
    for prefix in ("THIRD", "FIRST", "GONEA"):  # current, former, a tombstone's
        with pytest.raises(TransferError) as caught:
            import_customers(filled, io.BytesIO(customer_line(invoice_prefix=prefix).encode()))
        assert caught.value.param == "invoice_prefix"
        assert f"Invoice prefix {prefix} is already in use" in caught.value.message
    assert filled.store.snapshot() == before


# --- conflicts -----------------------------------------------------------------------


@pytest.fixture
def imported(service: CustomerService) -> CustomerService:
    import_customers(service, io.BytesIO(GOOD.encode()))
    return service


def changed(**changes: Any) -> bytes:
    return json.dumps({**STRIPE_CUSTOMER, **changes}).encode()


def test_an_existing_id_stops_the_import_by_default(imported: CustomerService) -> None:
    with pytest.raises(TransferError) as caught:
        import_customers(imported, io.BytesIO(changed(name="New")))
    assert caught.value.message.startswith("line 1: id: customer cus_NffrFeUfNV2Hib already exists")
    assert imported.retrieve("cus_NffrFeUfNV2Hib").name == "Jenny Rosen"  # type: ignore[union-attr]


def test_on_conflict_skip_keeps_the_existing_customer(imported: CustomerService) -> None:
    data = changed(name="New") + b"\n" + changed(id="cus_Fresh1", invoice_prefix="FRESH")
    result = import_customers(imported, io.BytesIO(data), on_conflict="skip")
    assert (result.created, result.skipped, result.replaced) == (1, 1, 0)
    assert imported.retrieve("cus_NffrFeUfNV2Hib").name == "Jenny Rosen"  # type: ignore[union-attr]


def test_on_conflict_replace_overwrites_it(imported: CustomerService) -> None:
    data = changed(name="New", invoice_prefix="NEWPFX", metadata={"a": "b"})
    result = import_customers(imported, io.BytesIO(data), on_conflict="replace")
    assert (result.created, result.replaced) == (0, 1)
    customer = imported.retrieve("cus_NffrFeUfNV2Hib").to_dict()
    assert (customer["name"], customer["invoice_prefix"], customer["metadata"]) == (
        "New",
        "NEWPFX",
        {"a": "b"},
    )
    with pytest.raises(Exception, match="already in use"):
        imported.create(invoice_prefix="0759376C")  # its former prefix stays reserved


def test_on_conflict_replace_refuses_another_created_or_a_deleted_customer(
    imported: CustomerService,
) -> None:
    with pytest.raises(
        TransferError,
        match="line 1: created: customer cus_NffrFeUfNV2Hib exists with created=1680893993, not 5",
    ):
        import_customers(imported, io.BytesIO(changed(created=5)), on_conflict="replace")
    imported.delete("cus_NffrFeUfNV2Hib")
    with pytest.raises(TransferError, match="was deleted"):
        import_customers(imported, io.BytesIO(changed()), on_conflict="replace")
    result = import_customers(imported, io.BytesIO(changed()), on_conflict="skip")
    assert result.skipped == 1


def test_a_duplicate_id_within_the_file_is_a_conflict_too(service: CustomerService) -> None:
    data = GOOD.encode() + b"\n" + changed(name="Again")
    with pytest.raises(
        TransferError, match="line 2: id: customer cus_NffrFeUfNV2Hib already exists"
    ):
        import_customers(service, io.BytesIO(data))
    assert import_customers(service, io.BytesIO(data), on_conflict="skip").skipped == 1
    assert service.retrieve("cus_NffrFeUfNV2Hib").name == "Jenny Rosen"  # type: ignore[union-attr]


def test_reimporting_an_export_with_skip_changes_nothing(filled: CustomerService) -> None:
    data = exported(filled)
    before = filled.store.snapshot()
    result = import_customers(filled, io.BytesIO(data), on_conflict="skip")
    end = json.loads(data.splitlines()[-1])
    assert dataclasses.asdict(result) == {
        **dict.fromkeys(dataclasses.asdict(result), 0),
        "skipped": end["customers"],
        "tax_ids_skipped": end["tax_ids"],
        "deleted_customers_skipped": end["deleted_customers"],
        "invoice_prefixes_skipped": end["invoice_prefixes"],
        "has_more": False,
        "warnings": [],
    }
    assert filled.store.snapshot() == before


def test_bad_options_are_invalid_request_errors(service: CustomerService) -> None:
    with pytest.raises(Exception, match="Invalid on_conflict"):
        import_customers(service, io.BytesIO(b""), on_conflict="merge")  # type: ignore[arg-type]
    with pytest.raises(Exception, match="Invalid order"):
        export_customers(service, io.BytesIO(), order="random")  # type: ignore[arg-type]


# --- progress -----------------------------------------------------------------------


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_progress_draws_on_a_terminal_only(monkeypatch: pytest.MonkeyPatch) -> None:
    clock = iter(range(0, 100))
    monkeypatch.setattr(transfer_module.time, "monotonic", lambda: float(next(clock)))
    terminal = Terminal()
    bar = transfer_module.Progress("customers", total=1000, stream=terminal)
    bar.update(250)
    bar.finish(1000)
    assert terminal.getvalue() == (
        "\r250 customers  250/s  25%  0:03 left   "
        "\r1,000 customers  500/s  in 0:02" + " " * 20 + "\n"
    )
    piped = io.StringIO()
    quiet = transfer_module.Progress("customers", total=1000, stream=piped)
    quiet.update(250)
    quiet.finish(1000)
    assert piped.getvalue() == ""


# --- tax IDs -------------------------------------------------------------------------


def stripe_tax_id(**changes: Any) -> dict[str, Any]:
    customer = changes.pop("customer", STRIPE_CUSTOMER["id"])
    return {
        "id": "txi_1NuMB12eZvKYlo2CMecoWkZd",
        "object": "tax_id",
        "country": "DE",
        "created": 1695804000,
        "customer": customer,
        "livemode": False,
        "owner": {"customer": customer, "type": "customer"},
        "type": "eu_vat",
        "value": "DE123456789",
        "verification": {"status": "pending", "verified_address": None, "verified_name": None},
        **changes,
    }


def test_tax_ids_embedded_by_expand_or_on_lines_of_their_own_are_imported(
    service: CustomerService,
) -> None:
    embedded = {
        **STRIPE_CUSTOMER,
        "tax_ids": {"object": "list", "data": [stripe_tax_id()], "has_more": False, "url": "/x"},
    }
    other = stripe_tax_id(id="txi_Second", type="gb_vat", value="GB123456789", country="GB")
    data = json.dumps(embedded).encode() + b"\n" + json.dumps(other).encode()
    result = import_customers(service, io.BytesIO(data))
    assert (result.created, result.tax_ids) == (1, 2)
    listed = service.tax_ids.list(STRIPE_CUSTOMER["id"]).to_dict()["data"]
    assert [tax_id["id"] for tax_id in listed] == ["txi_Second", "txi_1NuMB12eZvKYlo2CMecoWkZd"]
    assert listed[1] == {
        **stripe_tax_id(),
        "customer_account": None,
        "owner": {"customer": STRIPE_CUSTOMER["id"], "customer_account": None, "type": "customer"},
    }


@pytest.mark.parametrize(
    ("tax_id", "param", "reason"),
    [
        (stripe_tax_id(value="not a vat"), "value", "Invalid value for eu_vat."),
        (stripe_tax_id(type="xx_nope"), "type", "Invalid type: must be one of"),
        (stripe_tax_id(customer="cus_Unknown1"), "customer", "no live customer cus_Unknown1"),
        (stripe_tax_id(id="bad"), "id", "Invalid id: 'bad'"),
        (stripe_tax_id(extra=1), "extra", "unknown field: not part of a tax ID"),
    ],
)
def test_a_bad_tax_id_line_imports_nothing(
    service: CustomerService, tax_id: dict[str, Any], param: str, reason: str
) -> None:
    data = GOOD.encode() + b"\n" + json.dumps(tax_id).encode()
    with pytest.raises(TransferError) as caught:
        import_customers(service, io.BytesIO(data))
    assert (caught.value.line, caught.value.param) == (2, param)
    assert reason in caught.value.reason
    assert service.store.count() == 0


def test_a_tax_id_already_there_is_a_conflict(service: CustomerService) -> None:
    data = GOOD.encode() + b"\n" + json.dumps(stripe_tax_id()).encode()
    import_customers(service, io.BytesIO(data))
    with pytest.raises(
        TransferError, match="line 1: id: tax ID txi_1NuMB12eZvKYlo2CMecoWkZd already exists"
    ):
        import_customers(service, io.BytesIO(json.dumps(stripe_tax_id()).encode()))
    result = import_customers(service, io.BytesIO(data), on_conflict="skip")
    assert (result.skipped, result.tax_ids_skipped, result.tax_ids) == (1, 1, 0)
    changed_value = json.dumps(stripe_tax_id(value="DE999999999")).encode()
    result = import_customers(service, io.BytesIO(changed_value), on_conflict="replace")
    assert (result.tax_ids, result.tax_ids_replaced) == (0, 1)
    assert (
        service.tax_ids.retrieve(STRIPE_CUSTOMER["id"], "txi_1NuMB12eZvKYlo2CMecoWkZd").value
        == "DE999999999"
    )


@pytest.mark.parametrize("on_conflict", ["skip", "replace"])
def test_one_id_twice_with_null_then_an_email_is_a_conflict_on_every_store(
    service: CustomerService, on_conflict: str
) -> None:
    # SQLite's insert_many sorted whole rows, so null beside an email raised a TypeError.
    lines = (
        b'{"id":"cus_bbb","object":"customer","created":5}\n'
        b'{"id":"cus_bbb","object":"customer","created":5,"email":"dup@x.io"}\n'
    )
    result = import_customers(service, io.BytesIO(lines), on_conflict=on_conflict)  # type: ignore[arg-type]
    assert (result.created, result.skipped, result.replaced) == (
        (1, 1, 0) if on_conflict == "skip" else (1, 0, 1)
    )
    expected = None if on_conflict == "skip" else "dup@x.io"
    assert service.retrieve("cus_bbb").email == expected

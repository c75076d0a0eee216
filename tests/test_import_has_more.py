"""A list page that says ``has_more: true`` (Stripe's first page of a longer list) imports
what it holds, and the import says that the account holds more: ``ImportResult.has_more``
and ``warnings`` in the Python API, a warning line on stderr in the command."""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

import pytest

from customer_core import CustomerService, MemoryStore
from customer_core.cli import main
from customer_core.transfer import import_customers

from .test_transfer import STRIPE_CUSTOMER

SECOND = {**STRIPE_CUSTOMER, "id": "cus_Second12345678", "invoice_prefix": "AB12"}
THIRD = {**STRIPE_CUSTOMER, "id": "cus_Third123456789", "invoice_prefix": "CD34"}


def page(data: list[dict[str, Any]], *, has_more: bool) -> dict[str, Any]:
    return {"object": "list", "data": data, "has_more": has_more, "url": "/v1/customers"}


def warning(where: str, count: int, fetch: str) -> str:
    return (
        f"{where}: a list page of {count} customers says has_more: true, and no page in the "
        "file ends the list (has_more: false): Stripe holds more customers than the file, so "
        f"only part of them were imported; {fetch}, and import those too"
    )


LIST_AFTER_SECOND = (
    "list them with starting_after=cus_Second12345678 (its last customer), for example "
    "`stripe customers list --starting-after cus_Second12345678`"
)


def imported(data: bytes) -> tuple[Any, CustomerService]:
    service = CustomerService(MemoryStore())
    return import_customers(service, io.BytesIO(data)), service


def test_a_pretty_printed_first_page_imports_its_customers_and_says_there_are_more() -> None:
    result, service = imported(
        json.dumps(page([STRIPE_CUSTOMER, SECOND], has_more=True), indent=2).encode()
    )
    assert result.created == 2
    assert service.retrieve("cus_Second12345678").invoice_prefix == "AB12"
    assert result.has_more is True
    assert result.warnings == [warning("document", 2, LIST_AFTER_SECOND)]


def test_a_page_a_line_names_its_line() -> None:
    first = json.dumps(STRIPE_CUSTOMER).encode()
    more = json.dumps(page([SECOND], has_more=True)).encode()
    result, _ = imported(first + b"\n" + more + b"\n")
    assert result.created == 2
    assert result.warnings == [warning("line 2", 1, LIST_AFTER_SECOND)]


@pytest.mark.parametrize("order", ["in order", "last page first"])
def test_pages_that_reach_the_end_of_the_list_warn_of_nothing(order: str) -> None:
    pages = [page([STRIPE_CUSTOMER, SECOND], has_more=True), page([THIRD], has_more=False)]
    if order == "last page first":
        pages.reverse()
    result, _ = imported(b"\n".join(json.dumps(each).encode() for each in pages))
    assert (result.created, result.has_more, result.warnings) == (3, False, [])


def test_a_whole_list_warns_of_nothing() -> None:
    result, _ = imported(json.dumps(page([STRIPE_CUSTOMER], has_more=False)).encode())
    assert (result.created, result.has_more, result.warnings) == (1, False, [])


def test_a_search_result_page_names_its_next_page() -> None:
    search = {
        "object": "search_result",
        "data": [STRIPE_CUSTOMER],
        "has_more": True,
        "next_page": "WzE2ODA4OTM5OTNd",
        "url": "/v1/customers/search",
    }
    result, _ = imported(json.dumps(search).encode())
    assert result.warnings == [warning("line 1", 1, "search again with page=WzE2ODA4OTM5OTNd")]


def test_the_command_prints_the_warning_after_its_summary(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    source = tmp_path / "page.json"
    source.write_text(json.dumps(page([STRIPE_CUSTOMER, SECOND], has_more=True), indent=2))
    assert main(["import", str(source), "--db", str(tmp_path / "customers.db")]) == 0
    assert capsys.readouterr().err == (
        "imported 2 new customers (0 replaced, 0 skipped), 0 tax IDs, 0 deleted customers, "
        "0 former invoice prefixes\n"
        f"warning: {warning('document', 2, LIST_AFTER_SECOND)}\n"
    )

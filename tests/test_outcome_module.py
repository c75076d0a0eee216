"""The Outcome and the request info of events live in ``customer_core.outcome``, which
both the service and ``TaxIdService`` import at module level: tax_ids no longer imports
the service module inside a call to dodge a cycle."""

from __future__ import annotations

import ast
from pathlib import Path

import customer_core
from customer_core import CustomerService, MemoryStore, outcome, service, tax_ids
from customer_core.models import Customer
from customer_core.tax_ids import DeletedTaxId, TaxId

PACKAGE = Path(customer_core.__file__).parent


def imports_inside_functions(path: Path) -> list[str]:
    """The modules a source file imports inside a function body."""
    found = []
    for function in ast.walk(ast.parse(path.read_text())):
        if isinstance(function, (ast.FunctionDef, ast.AsyncFunctionDef)):
            for node in ast.walk(function):
                if isinstance(node, ast.ImportFrom):
                    found.append("." * node.level + (node.module or ""))
    return found


def test_tax_ids_imports_nothing_at_call_time() -> None:
    assert imports_inside_functions(PACKAGE / "tax_ids.py") == []


def test_one_outcome_class_and_one_request_info_for_both_services() -> None:
    assert service.Outcome is outcome.Outcome is vars(tax_ids)["Outcome"]
    assert vars(tax_ids)["request_info"] is outcome.request_info
    assert not hasattr(service, "_request_info")


def test_a_tax_id_write_records_its_request_as_a_customer_write_does() -> None:
    svc = CustomerService(MemoryStore(), clock=lambda: 1_700_000_000, seed=7)
    created = svc.perform("create", {}, idempotency_key="k1", request_id="req_1")
    customer = created.result
    assert isinstance(created, outcome.Outcome) and isinstance(customer, Customer)
    made = svc.tax_ids.perform(
        "create",
        {"type": "eu_vat", "value": "DE123456789"},
        customer=customer.id,
        idempotency_key="k2",
        request_id="req_2",
    )
    tax_id = made.result
    assert isinstance(made, outcome.Outcome) and made.replayed is False
    assert isinstance(tax_id, TaxId)
    gone = svc.tax_ids.perform("delete", customer=customer.id, id=tax_id.id, request_id="req_3")
    assert isinstance(gone.result, DeletedTaxId) and gone.result.deleted is True
    requests = [
        (event.type, event.request and (event.request.id, event.request.idempotency_key))
        for event in reversed(svc.events.list().data)
    ]
    assert requests == [
        ("customer.created", ("req_1", "k1")),
        ("customer.tax_id.created", ("req_2", "k2")),
        ("customer.tax_id.deleted", ("req_3", None)),
    ]

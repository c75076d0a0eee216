"""A customer write's Outcome holds the record: ``to_json()`` encodes it as it is and
``result`` builds the Customer only when asked. Both must be exactly what the model gives
(the body of a wrapper's answer and of an idempotency entry is these bytes)."""

from __future__ import annotations

import threading
from typing import Any

import pytest

from customer_core import Customer, CustomerService
from customer_core.models import BODY_INDENT
from customer_core.service import Outcome

FULL: dict[str, Any] = {
    "name": "Jenny Rosen",
    "business_name": "Rosen GmbH",
    "individual_name": "Jenny",
    "email": "jenny@example.com",
    "description": 'Résumé ✓ "quoted" \\ back\nslash',
    "phone": "+15555550123",
    "balance": "-120",
    "address": {"city": "Paris", "country": "FR", "line1": "1 rue de Rivoli"},
    "shipping": {"name": "Jenny", "address": {"line1": "2 Main St"}, "phone": "+1555"},
    "invoice_settings": {
        "custom_fields": {"0": {"name": "PO", "value": "42"}},
        "footer": "Thanks",
        "rendering_options": {"template": "tmpl_1"},
    },
    "metadata": {"plan": "gold", "seats": "3"},
    "preferred_locales": ["fr", "en"],
    "tax_exempt": "reverse",
    "next_invoice_sequence": "7",
}


def _model_body(outcome: Outcome) -> bytes:
    result = outcome.result
    assert isinstance(result, Customer)
    return result.to_json(indent=BODY_INDENT)


@pytest.mark.parametrize(
    "params",
    [{}, {"email": "a@example.com"}, FULL, {**FULL, "expand": ["tax", "cash_balance"]}],
    ids=["empty", "email", "full", "expanded"],
)
def test_a_create_body_is_the_models_json(service: CustomerService, params: dict[str, Any]) -> None:
    for key in (None, "k"):
        outcome = service.perform("create", params, idempotency_key=key)
        body = outcome.to_json()
        assert body == _model_body(outcome)
        assert (outcome.body == body) if key else (outcome.body is None)
        assert outcome.result == service.retrieve(
            outcome.result.id, expand=params.get("expand", [])
        )  # type: ignore[union-attr]


def test_an_update_body_is_the_models_json(service: CustomerService) -> None:
    customer = service.create(**FULL)
    service.tax_ids.create(customer.id, type="eu_vat", value="DE123456789")
    for key, params in [
        (None, {"name": "Ada", "business_name": ""}),
        ("u", {"metadata": {"plan": ""}, "expand": ["tax_ids"]}),
        (None, {"shipping": "", "invoice_settings": {"rendering_options": ""}}),
    ]:
        outcome = service.perform("update", params, id=customer.id, idempotency_key=key)
        assert outcome.to_json() == _model_body(outcome)


def test_the_model_is_built_once_and_only_when_asked(service: CustomerService) -> None:
    outcome = service.perform("create", {"email": "a@example.com"})
    assert outcome._result is None  # nothing built yet: a wrapper sends the body alone
    body = outcome.to_json()
    first = outcome.result
    assert outcome.result is first and outcome.to_json() == body


def test_threads_share_an_outcome_safely(service: CustomerService) -> None:
    outcome = service.perform("create", FULL)
    results: list[object] = []
    bodies: list[bytes] = []

    def read() -> None:
        bodies.append(outcome.to_json())
        results.append(outcome.result)
        bodies.append(outcome.to_json())

    threads = [threading.Thread(target=read) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    customer = results[0]
    assert isinstance(customer, Customer)
    assert all(result is customer for result in results) and len(results) == 8
    assert set(bodies) == {service.retrieve(customer.id).to_json(indent=BODY_INDENT)}


def test_an_outcome_says_what_it_holds(service: CustomerService) -> None:
    """``repr`` shows the result and whether it was replayed (trial 7: it was the default
    ``<... object at 0x...>``)."""
    first = service.perform("create", {"email": "jenny@example.com"}, idempotency_key="k1")
    again = service.perform("create", {"email": "jenny@example.com"}, idempotency_key="k1")
    customer = first.result
    assert repr(first) == f"Outcome(replayed=False, result={customer!r})"
    assert repr(again) == f"Outcome(replayed=True, result={again.result!r})"
    assert "id='" + customer.id + "'" in repr(again)

"""What an idempotency entry saves for a success: the JSON body Stripe sends, encoded once
for the entry and the answer, so a replay answers with the first answer's very bytes; and
entries saved by earlier versions (the result as a dict) still replay."""

from __future__ import annotations

import json

from customer_core import Customer, CustomerService
from customer_core.http import StripeAPI
from customer_core.store.base import Store

FORM = {"content-type": "application/x-www-form-urlencoded"}


def post(api: StripeAPI, path: str, body: bytes, key: str) -> tuple[int, bytes, dict[str, str]]:
    answer = api.handle("POST", path, "", {**FORM, "idempotency-key": key}, body)
    return answer.status, answer.body, answer.headers


def test_a_success_is_saved_as_the_body_sent(service: CustomerService) -> None:
    api = StripeAPI(service, None)
    status, body, _ = post(api, "/v1/customers", b"email=a%40example.com&metadata[plan]=gold", "k1")
    entry = service.store.idempotency_get("k1")
    assert status == 200 and entry is not None
    assert entry["json"] + "\n" == body.decode()
    assert body.startswith(b'{\n  "id": "cus_')  # pretty-printed, as Stripe sends it
    assert "body" not in entry and entry["status"] == 200


def test_a_replay_sends_the_first_answers_bytes(service: CustomerService) -> None:
    api = StripeAPI(service, None)
    form = b"name=Jenny+Rosen&address[city]=Paris&preferred_locales[0]=fr"
    first = post(api, "/v1/customers", form, "k1")
    again = post(api, "/v1/customers", form, "k1")
    assert again[1] == first[1]
    assert (again[2]["idempotent-replayed"], "idempotent-replayed" in first[2]) == ("true", False)
    customer = json.loads(first[1])
    updated = post(api, f"/v1/customers/{customer['id']}", b"name=Jenny", "k2")
    assert post(api, f"/v1/customers/{customer['id']}", b"name=Jenny", "k2")[1] == updated[1]
    assert json.loads(updated[1])["name"] == "Jenny"


def test_the_service_hands_the_saved_body_to_wrappers(service: CustomerService) -> None:
    first = service.perform("create", {"name": "A"}, idempotency_key="k")
    again = service.perform("create", {"name": "A"}, idempotency_key="k")
    assert first.body is not None and again.body == first.body
    assert first.body == first.result.to_json(indent=2)
    assert again.result == first.result
    assert service.perform("create", {"name": "B"}).body is None  # no key: nothing encoded


def test_a_tax_id_success_is_saved_as_its_body(service: CustomerService) -> None:
    customer = service.create(email="a@example.com")
    first = service.tax_ids.perform(
        "create",
        {"type": "eu_vat", "value": "DE123456789"},
        customer=customer.id,
        idempotency_key="t",
    )
    again = service.tax_ids.perform(
        "create",
        {"type": "eu_vat", "value": "DE123456789"},
        customer=customer.id,
        idempotency_key="t",
    )
    assert again.replayed and again.body == first.body == first.result.to_json(indent=2)
    assert again.result == first.result


def entry_of_an_earlier_version(store: Store, key: str, customer: Customer, params: str) -> None:
    """An entry as versions before the JSON bodies saved it: the result as a dict."""
    store.idempotency_put(
        key,
        {
            "created": customer.created,
            "endpoint": "/v1/customers",
            "fingerprint": params,
            "status": 200,
            "body": customer.to_dict(),
        },
    )


def test_entries_saved_by_earlier_versions_still_replay(service: CustomerService) -> None:
    customer = service.create(email="old@example.com", metadata={"plan": "gold"})
    entry_of_an_earlier_version(
        service.store, "old-key", customer, '{"email":"old@example.com","metadata":{"plan":"gold"}}'
    )
    api = StripeAPI(service, None)
    status, body, headers = post(
        api, "/v1/customers", b"email=old%40example.com&metadata[plan]=gold", "old-key"
    )
    assert (status, headers["idempotent-replayed"]) == (200, "true")
    assert body == customer.to_json(indent=2) + b"\n"
    outcome = service.perform(
        "create",
        {"metadata": {"plan": "gold"}, "email": "old@example.com"},
        idempotency_key="old-key",
    )
    assert (outcome.result, outcome.replayed, outcome.body) == (customer, True, None)
    assert len(service.list().data) == 1

"""The HTTP layer's params come from the form decoder, so it tells ``perform`` so
(``from_form=True``): they are neither copied nor looked through before an idempotency
entry keeps them. That path must give what the general one gives, byte for byte: the
answer, the customer, the saved entry, a replay and a refused retry. The collection routes
are found in one lookup; they must answer as the general routing did."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from customer_core import (
    CustomerService,
    IdempotencyError,
    InvalidRequestError,
    MemoryStore,
    SQLiteStore,
    Store,
)
from customer_core.http.api import StripeAPI
from customer_core.http.forms import decode
from customer_core.testing import FakeClock

BODY = (
    "name=Jenny+Rosen&email=jenny%40example.com&phone=%2B15555550123"
    "&address[city]=Paris&address[line1]=1+rue+de+Rivoli&metadata[plan]=gold"
    "&preferred_locales[0]=fr&preferred_locales[1]=en&expand[]=tax"
)
FORM = {"content-type": "application/x-www-form-urlencoded"}


def _services(kind: str, tmp_path: Path) -> tuple[CustomerService, CustomerService]:
    def store(name: str) -> Store:
        return MemoryStore() if kind == "memory" else SQLiteStore(tmp_path / f"{name}.db")

    return tuple(  # type: ignore[return-value]
        CustomerService(store(name), clock=FakeClock(1_700_000_000), seed=7)
        for name in ("form", "general")
    )


@pytest.mark.parametrize("kind", ["memory", "sqlite"])
@pytest.mark.parametrize("key", ["key-1", None])
def test_form_params_give_what_the_general_path_gives(
    kind: str, key: str | None, tmp_path: Path
) -> None:
    form_service, general = _services(kind, tmp_path)
    form = form_service.perform("create", decode(BODY), idempotency_key=key, from_form=True)
    plain = general.perform("create", decode(BODY), idempotency_key=key)
    assert form.to_json() == plain.to_json()
    assert form_service.store.get(form.result.id) == general.store.get(plain.result.id)
    if key is not None:
        assert form_service.store.idempotency_get(key) == general.store.idempotency_get(key)
        assert form_service.store.idempotency_get(key)["params"] == decode(BODY)  # type: ignore[index]


@pytest.mark.parametrize("kind", ["memory", "sqlite"])
def test_a_form_update_saves_the_same_entry(kind: str, tmp_path: Path) -> None:
    form_service, general = _services(kind, tmp_path)
    first = form_service.create(email="a@example.com").id
    assert general.create(email="a@example.com").id == first
    update = "metadata[plan]=silver&name=Ada"
    form = form_service.perform(
        "update", decode(update), id=first, idempotency_key="u", from_form=True
    )
    plain = general.perform("update", decode(update), id=first, idempotency_key="u")
    assert form.to_json() == plain.to_json()
    assert form_service.store.idempotency_get("u") == general.store.idempotency_get("u")


def _post(api: StripeAPI, body: str, key: str) -> Any:
    return api.handle("POST", "/v1/customers", "", {**FORM, "idempotency-key": key}, body)


def test_a_form_retry_replays_and_a_changed_one_is_refused(service: CustomerService) -> None:
    api = StripeAPI(service, None)
    first = _post(api, BODY, "k")
    again = _post(api, BODY, "k")
    assert first.status == again.status == 200
    assert again.headers["idempotent-replayed"] == "true"
    assert again.body == first.body
    refused = _post(api, BODY.replace("gold", "silver"), "k")
    assert refused.status == 400 and refused.json()["error"]["type"] == "idempotency_error"
    assert len(service.list().data) == 1
    with pytest.raises(IdempotencyError):  # the same entry, read by the general path
        service.perform("create", {**decode(BODY), "email": "b@example.com"}, idempotency_key="k")


def test_perform_copies_params_that_are_not_a_plain_dict(service: CustomerService) -> None:
    class Params(dict[str, Any]):
        pass

    params = Params(email="a@example.com")
    service.perform("create", params, idempotency_key="k", from_form=True)
    entry = service.store.idempotency_get("k")
    assert entry is not None and entry["params"] == {"email": "a@example.com"}


@pytest.mark.parametrize(
    ("method", "path", "query"),
    [
        ("GET", "/v1/customers", "limit=1"),
        ("GET", "/v1/customers/search", "query=email%3A%22jenny%40example.com%22"),
        ("POST", "/v1/customers", ""),
        ("PUT", "/v1/customers", ""),
        ("GET", "/v1/customers/", ""),
    ],
)
def test_collection_routes_answer_as_before(
    service: CustomerService, method: str, path: str, query: str
) -> None:
    api = StripeAPI(service, None)
    service.create(email="jenny@example.com")
    answer = api.handle(method, path, query, FORM, "")
    if method == "PUT" or path.endswith("/"):
        assert answer.status == 404
        assert "Unrecognized request URL" in answer.json()["error"]["message"]
        return
    assert answer.status == 200
    body = answer.json()
    if method == "POST":
        assert body["object"] == "customer" and body["email"] is None
    else:
        assert [customer["email"] for customer in body["data"]] == ["jenny@example.com"]


@pytest.mark.parametrize("operation", ["create", "list", "search"])
def test_perform_refuses_an_id_where_the_operation_takes_none(
    service: CustomerService, operation: str
) -> None:
    params = {"query": 'email:"a@example.com"'} if operation == "search" else {}
    with pytest.raises(InvalidRequestError) as raised:
        service.perform(operation, params, id="cus_given")  # type: ignore[arg-type]
    assert (raised.value.param, raised.value.message) == (
        "id",
        f"Invalid id: {operation} takes no id (retrieve, update and delete do).",
    )
    assert service.list().data == []

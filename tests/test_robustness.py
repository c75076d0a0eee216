"""Bad input: only customer_core errors reach callers, and failed calls change nothing."""

from __future__ import annotations

import tempfile
import threading
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from customer_core import CustomerCoreError, CustomerService
from customer_core.http.forms import decode
from customer_core.pagination import page_token
from customer_core.params import CustomerCreateParams, CustomerListParams, CustomerUpdateParams

from .conftest import STORE_FACTORIES
from .test_customer_object import FULL

NAMES = sorted(
    {
        *CustomerCreateParams.model_fields,
        *CustomerUpdateParams.model_fields,
        *CustomerListParams.model_fields,
    }
)
NESTED_KEYS = [
    "city",
    "name",
    "value",
    "address",
    "custom_fields",
    "footer",
    "gt",
    "lte",
    "type",
    "settings",
    "0",
    "x[y]",
]

INT64_MIN, INT64_MAX = -(2**63), 2**63 - 1
EDGES = [INT64_MIN - 1, INT64_MIN, INT64_MIN + 1, -1, 0, 1, INT64_MAX - 1, INT64_MAX, INT64_MAX + 1]
edge_integers = st.sampled_from(EDGES)
"""The ends of Stripe's 64-bit integers and one past them: where overflows hide."""
edge_values = st.one_of(edge_integers, edge_integers.map(str))
# Characters int() or str.isdigit() take as digits besides 0-9 (², ٣, 𝟘, ...).
other_digits = st.characters(categories=["Nd", "No"]).filter(lambda c: not "0" <= c <= "9")
idempotency_keys = st.one_of(
    st.none(), st.sampled_from(["k1", "k2"]), st.text(min_size=1, max_size=8)
)

scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    edge_values,
    st.floats(allow_nan=True),
    st.text(max_size=30),
    st.text(st.characters(codec=None, categories=["Cs", "Lu", "Nd", "No"]), max_size=5),
    st.sampled_from(["", "none", "exempt", "en", "a@b.co", "ABC", "1", "-1", "1.5", "x" * 600]),
    st.binary(max_size=5),
)
values = st.recursive(
    scalars,
    lambda children: st.one_of(
        st.lists(children, max_size=4),
        st.tuples(children),
        st.dictionaries(
            st.one_of(
                st.sampled_from(NESTED_KEYS), st.text(max_size=5), st.integers(), other_digits
            ),
            children,
            max_size=4,
        ),
        st.frozensets(st.integers(), max_size=2),
    ),
    max_leaves=10,
)
params = st.dictionaries(
    st.one_of(st.sampled_from(NAMES), st.text(min_size=1, max_size=8)), values, max_size=5
)

# Hypothesis runs many examples per test, so each store gets one long-lived service.
_DIRECTORY = tempfile.TemporaryDirectory()  # removed when the test process exits
SHARED = {
    name: CustomerService(factory(Path(_DIRECTORY.name) / name), seed=1)
    for name, factory in STORE_FACTORIES.items()
    if (Path(_DIRECTORY.name) / name).mkdir() is None
}
EXISTING = {name: service.create(**FULL).id for name, service in SHARED.items()}
every_store = pytest.mark.parametrize("store_name", sorted(SHARED))


def call_is_safe(call: Any, *args: Any, **kwargs: Any) -> None:
    try:
        call(*args, **kwargs)
    except CustomerCoreError:
        pass


@every_store
@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(generated=params, key=idempotency_keys)
def test_random_create_params_succeed_or_raise_customer_core_errors(
    store_name: str, generated: dict[str, Any], key: str | None
) -> None:
    call_is_safe(SHARED[store_name].create, **generated)
    call_is_safe(SHARED[store_name].create, idempotency_key=key or "create", **generated)


@every_store
@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(generated=params, key=idempotency_keys)
def test_random_update_params_succeed_or_raise_customer_core_errors(
    store_name: str, generated: dict[str, Any], key: str | None
) -> None:
    update = SHARED[store_name].update
    call_is_safe(update, EXISTING[store_name], **generated)
    call_is_safe(update, EXISTING[store_name], idempotency_key=key or "update", **generated)


@every_store
@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(generated=params, some_id=values)
def test_random_list_and_retrieve_params_succeed_or_raise_customer_core_errors(
    store_name: str, generated: dict[str, Any], some_id: Any
) -> None:
    service = SHARED[store_name]
    call_is_safe(service.list, **generated)
    call_is_safe(service.retrieve, some_id)
    call_is_safe(service.retrieve, EXISTING[store_name], **generated)
    call_is_safe(service.delete, some_id, **generated)


@every_store
@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(generated=params)
def test_a_failed_update_changes_nothing(store_name: str, generated: dict[str, Any]) -> None:
    # Again with an idempotency key: a refused update may save its error for the key (an
    # error after validation is replayed, as on Stripe), and changes nothing else.
    with (
        tempfile.TemporaryDirectory() as directory,
        STORE_FACTORIES[store_name](Path(directory)) as store,
    ):
        service = CustomerService(store, seed=3)
        first = service.create(**{**FULL, "metadata": {f"k{n}": "v" for n in range(49)}})
        service.create(invoice_prefix="TAKEN")
        before = store.snapshot()
        try:
            service.update(first.id, **generated)
        except CustomerCoreError:
            assert store.snapshot() == before
            try:
                service.update(first.id, idempotency_key="k", **generated)
            except CustomerCoreError:
                assert {**store.snapshot(), "idempotency_keys": {}} == before
        store.check_consistency()


INTEGER_PARAMS = ["balance", "next_invoice_sequence"]
CREATED_BOUNDS = ["gt", "gte", "lt", "lte"]
SEARCH_OPERATORS = [":", "=", ">", "<", ">=", "<="]


@every_store
@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    integers=st.fixed_dictionaries({name: edge_values for name in INTEGER_PARAMS}),
    card=st.fixed_dictionaries({"exp_month": edge_values, "exp_year": edge_values}),
    created=st.one_of(
        edge_values, st.dictionaries(st.sampled_from(CREATED_BOUNDS), edge_values, min_size=1)
    ),
    limit=edge_values,
    operator=st.sampled_from(SEARCH_OPERATORS),
    bound=edge_integers,
    key=idempotency_keys,
)
def test_int64_edges_in_every_integer_param_and_created_bound(
    store_name: str,
    integers: dict[str, Any],
    card: dict[str, Any],
    created: Any,
    limit: Any,
    operator: str,
    bound: int,
    key: str | None,
) -> None:
    service = SHARED[store_name]
    customer = EXISTING[store_name]
    call_is_safe(service.create, **integers)
    call_is_safe(service.create, idempotency_key=key or "edges", **integers)
    call_is_safe(service.update, customer, **integers)
    call_is_safe(service.update, customer, idempotency_key=key or "edges", **integers)
    call_is_safe(service.update, customer, card={**card, "number": "4242", "object": "card"})
    call_is_safe(service.list, created=created, limit=limit)
    call_is_safe(service.search, query=f"created{operator}{bound}", limit=limit)
    query = f'email:"a@b.co" created{operator}{bound}'
    call_is_safe(
        service.search,
        query=query,
        page=page_token((bound, customer), query),
        expand=["total_count"],
    )
    call_is_safe(service.tax_ids.list, customer, limit=limit)
    call_is_safe(service.events.list, created=created, limit=limit)


@every_store
@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    digit=other_digits,
    name=st.sampled_from(
        [
            "expand[{}]",
            "preferred_locales[{}]",
            "tax_id_data[{}][type]",
            "invoice_settings[custom_fields][{}][name]",
            "metadata[{}]",
            "created[{}]",
        ]
    ),
    value=st.sampled_from(["x", "en", "eu_vat", "1"]),
    key=idempotency_keys,
)
def test_unicode_digits_in_bracket_keys(
    store_name: str, digit: str, name: str, value: str, key: str | None
) -> None:
    service = SHARED[store_name]
    body = f"{name.format(digit)}={value}"
    try:
        params = decode(body)
    except CustomerCoreError:
        return
    call_is_safe(service.create, **params)
    call_is_safe(service.create, idempotency_key=key or "digits", **params)
    call_is_safe(service.update, EXISTING[store_name], **params)
    call_is_safe(service.list, **params)
    call_is_safe(service.search, query="created>0", **params)


def test_text_that_could_never_cross_the_wire_is_refused(service: CustomerService) -> None:
    from customer_core import InvalidRequestError

    for call, param in [
        (lambda: service.create(name="bad \ud800"), "name"),
        (lambda: service.create(metadata={"k": "\udfff"}), "metadata"),
        (lambda: service.create(metadata={"\udfff": "v"}), "metadata"),
        (lambda: service.retrieve("cus_\ud800"), "id"),
        (lambda: service.list(email="a\ud800@b.co"), "email"),
        (lambda: service.search(query='name:"\ud800"'), "query"),
    ]:
        try:
            call()
        except InvalidRequestError as error:
            assert error.param == param
        else:
            raise AssertionError(param)
    assert service.create(name="Zoë 名前 🙂").name == "Zoë 名前 🙂"


def test_failing_calls_leave_the_store_exactly_as_it_was(service: CustomerService) -> None:
    kept = service.create(**FULL)
    service.create(invoice_prefix="TAKEN")
    gone = service.create()
    service.delete(gone.id)
    before = service.store.snapshot()
    failing = [
        lambda: service.create(email="bad"),
        lambda: service.create(invoice_prefix="TAKEN"),
        lambda: service.create(metadata={f"k{n}": "v" for n in range(51)}),
        lambda: service.update(kept.id, invoice_prefix="TAKEN", name="Changed"),
        lambda: service.update(kept.id, metadata={f"n{n}": "v" for n in range(50)}),
        lambda: service.update(kept.id, default_source="card_1", name="Changed"),
        lambda: service.update(gone.id, name="x"),
        lambda: service.delete(gone.id),
        lambda: service.delete("cus_unknown"),
        lambda: service.list(starting_after="cus_unknown"),
    ]
    for call in failing:
        try:
            call()
        except CustomerCoreError:
            pass
        else:
            raise AssertionError("expected a CustomerCoreError")
        assert service.store.snapshot() == before


def test_a_failing_batch_is_rolled_back_whole(service: CustomerService) -> None:
    service.create(invoice_prefix="TAKEN")
    before = service.store.snapshot()
    try:
        with service.batch():
            service.create(email="one@example.com")
            service.create(invoice_prefix="TAKEN")
    except CustomerCoreError as error:
        assert error.param == "invoice_prefix"
    assert service.store.snapshot() == before


def test_threads_creating_and_updating_lose_nothing(service: CustomerService) -> None:
    targets = [service.create().id for _ in range(8)]
    made: list[str] = []
    lock = threading.Lock()

    def work(thread: int) -> None:
        for n in range(40):
            customer = service.create(email=f"t{thread}@example.com")
            with lock:
                made.append(customer.id)
            # 8 threads x 5 updates land on each target: 40 keys, under the limit of 50.
            service.update(targets[n % 8], metadata={f"t{thread}n{n}": "1"})

    threads = [threading.Thread(target=work, args=(t,)) for t in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(made) == len(set(made)) == 320
    prefixes = [c["invoice_prefix"] for c in service.store.snapshot()["customers"]]
    assert len(prefixes) == len(set(prefixes)) == 328
    for index, target in enumerate(targets):
        metadata = service.retrieve(target).metadata  # type: ignore[union-attr]
        assert set(metadata) == {f"t{t}n{n}" for t in range(8) for n in range(index, 40, 8)}

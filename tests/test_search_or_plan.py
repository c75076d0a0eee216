"""An OR query whose every clause an index answers is the union of those lookups: it
never walks the store, finds each match once, newest first, and pages like any search.
(Results against a reference evaluator, OR queries included: tests/test_search.py.)"""

from __future__ import annotations

from typing import Any

import pytest

from customer_core import CustomerService, Store
from customer_core.testing import FakeClock


@pytest.fixture
def made(service: CustomerService, clock: FakeClock) -> list[str]:
    ids = []
    for n in range(60):
        ids.append(
            service.create(
                name=f"Person {n}",
                email=f"p{n}@example.com",
                metadata={"tier": "gold" if n % 10 == 0 else "basic"},
            ).id
        )
        clock.advance(1)
    service.search(query='name:"nobody"')  # the memory store builds its word entries here
    return ids


@pytest.fixture
def no_walks(store: Store, service: CustomerService, monkeypatch: pytest.MonkeyPatch) -> None:
    """Fail any walk over the customers: these queries must not need one. (After the
    service is built: a seeded one reads the store's newest customer as it starts.)"""

    def refuse(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError("the search walked the store")

    monkeypatch.setattr(store, "scan", refuse)
    monkeypatch.setattr(store, "scan_containing", refuse)


def search_ids(service: CustomerService, query: str, **params: Any) -> list[str]:
    return [customer.id for customer in service.search(query=query, **params).data]


@pytest.mark.usefixtures("no_walks")
def test_an_or_of_indexed_clauses_is_answered_from_the_indexes(
    service: CustomerService, made: list[str]
) -> None:
    assert search_ids(service, 'email:"p5@example.com" OR email:"p6@example.com"') == [
        made[6],
        made[5],
    ]
    # Person 20 matches both clauses and comes once; the gold tier is every tenth person.
    query = 'name:"Person 20" OR metadata["tier"]:"gold" OR phone:"555"'
    gold = [made[n] for n in (50, 40, 30, 20, 10, 0)]
    assert search_ids(service, query) == gold
    page = service.search(query=query, limit=4, expand=["total_count"])
    assert ([customer.id for customer in page.data], page.has_more, page.total_count) == (
        gold[:4],
        True,
        6,
    )
    assert page.next_page is not None
    rest = service.search(query=query, limit=4, page=page.next_page)
    assert ([customer.id for customer in rest.data], rest.has_more) == (gold[4:], False)


@pytest.mark.usefixtures("no_walks")
def test_an_or_skips_deleted_customers_and_phrases_without_words(
    service: CustomerService, made: list[str]
) -> None:
    service.delete(made[10])
    assert search_ids(service, 'metadata["tier"]:"gold" OR email:"--"') == [
        made[n] for n in (50, 40, 30, 20, 0)
    ]


def test_an_or_with_a_clause_no_index_holds_still_finds_everything(
    service: CustomerService, made: list[str]
) -> None:
    # A negation matches records no index lookup gives: this one walks, and is right.
    assert search_ids(service, 'email:"p5@example.com" OR -metadata["tier"]:"basic"') == [
        made[n] for n in (50, 40, 30, 20, 10, 5, 0)
    ]

"""Search through the service on every store, and every store against a reference evaluator."""

from __future__ import annotations

import re
import tempfile
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from customer_core import CustomerService, SearchPage
from customer_core.search import engine as search_engine
from customer_core.search import parse
from customer_core.store.base import KeyRange
from customer_core.testing import FakeClock

from .conftest import STORE_FACTORIES
from .test_create import error_of


@pytest.fixture
def people(service: CustomerService, clock: FakeClock) -> list[str]:
    made = []
    for n in range(12):
        made.append(
            service.create(
                name=f"Amy Rocket {n}" if n % 3 else f"Bob {n}",
                email=f"amy{n % 4}@rocketrides.io",
                phone=f"+1555000{n:04d}",
                metadata={"plan": "gold" if n % 2 else "silver", "n": str(n)},
            ).id
        )
        clock.advance(1)
    return made


def ids(page: SearchPage) -> list[str]:
    return [customer.id for customer in page.data]


def test_search_result_envelope(service: CustomerService, people: list[str]) -> None:
    page = service.search(query='metadata["n"]:"3"')
    assert page.to_dict() == {
        "object": "search_result",
        "url": "/v1/customers/search",
        "has_more": False,
        "next_page": None,
        "data": [service.retrieve(people[3]).to_dict()],
    }
    assert "total_count" not in page.to_dict()


def test_next_page_walks_all_matches_newest_first(
    service: CustomerService, people: list[str]
) -> None:
    golds = [people[n] for n in range(11, -1, -1) if n % 2]
    first = service.search(query='metadata["plan"]:"gold"', limit=4)
    assert ids(first) == golds[:4] and first.has_more and first.next_page
    second = service.search(query='metadata["plan"]:"gold"', limit=4, page=first.next_page)
    assert ids(second) == golds[4:] and second.has_more is False and second.next_page is None


def test_a_next_page_works_only_with_the_query_that_made_it(
    service: CustomerService, people: list[str]
) -> None:
    first = service.search(query='metadata["plan"]:"gold"', limit=4)
    assert first.next_page
    error = error_of(service.search, query='name~"rocket"', limit=4, page=first.next_page)
    assert (error.param, error.code, error.http_status) == ("page", None, 400)
    assert error.message == (
        f"Invalid page: {first.next_page!r} is the next_page of a search with another query; "
        "pass the same query with it."
    )


def test_total_count_only_when_expanded(service: CustomerService, people: list[str]) -> None:
    page = service.search(query='name~"rocket"', limit=2, expand=["total_count"])
    assert page.to_dict()["total_count"] == 8
    assert list(page.to_dict()) == ["object", "url", "has_more", "next_page", "total_count", "data"]
    assert service.search(query='name~"rocket"', expand=["data.tax"]).data[0].tax is not None


def test_deleted_customers_are_never_found(service: CustomerService, people: list[str]) -> None:
    service.delete(people[1])
    assert people[1] not in ids(service.search(query='metadata["plan"]:"gold"', limit=100))
    assert ids(service.search(query='metadata["n"]:"1"')) == []


def test_search_params_are_validated(service: CustomerService) -> None:
    error = error_of(service.search)
    assert (error.code, error.param, error.message) == (
        "parameter_missing",
        "query",
        "Missing required param: query.",
    )
    assert error_of(service.search, query="").code == "parameter_invalid_empty"
    assert error_of(service.search, query="name:x").message.startswith(
        "Invalid search query: string values must be quoted"
    )
    assert error_of(service.search, query='name:"x"', limit=0).param == "limit"
    assert error_of(service.search, query='name:"x"', page="garbage").param == "page"
    assert error_of(service.search, query='name:"x"', page="page_!!!").param == "page"
    assert (
        error_of(service.search, query='name:"x"', bogus=1).message
        == "Received unknown parameter: bogus"
    )
    assert (
        error_of(service.search, query='name:"x"', expand=["tax"]).message
        == "This property cannot be expanded (tax)."
    )


# --- every store agrees with a deliberately simple reference evaluator ----------------------


def reference(query: str, records: list[dict[str, Any]]) -> list[str]:
    """A second, naive reading of the semantics: regex words, plain comparisons, full scan."""
    parsed = parse(query)

    def holds(clause: Any, record: dict[str, Any]) -> bool:
        value = (
            record["metadata"].get(clause.key)
            if clause.field == "metadata"
            else record.get(clause.field)
        )
        if clause.value is None:
            result = value in (None, "")
        elif clause.field == "created":
            wanted = int(clause.value)
            result = {
                ":": value == wanted,
                "=": value == wanted,
                ">": value > wanted,
                "<": value < wanted,
                ">=": value >= wanted,
                "<=": value <= wanted,
            }[clause.operator]
        elif value is None:
            result = False
        elif clause.field == "metadata":
            result = value.lower() == str(clause.value).lower()
        elif clause.operator == "~":
            result = str(clause.value).lower() in value.lower()
        elif clause.field == "email":
            result = value != "" and value.lower() == str(clause.value).lower()
        else:
            mine = re.findall(r"[^\W_]+", value.lower())
            theirs = re.findall(r"[^\W_]+", str(clause.value).lower())
            result = bool(theirs) and any(
                mine[start : start + len(theirs)] == theirs for start in range(len(mine))
            )
        return result != clause.negated

    combine = all if parsed.conjunction == "AND" else any
    hits = [r for r in records if combine(holds(c, r) for c in parsed.clauses)]
    return [r["id"] for r in sorted(hits, key=lambda r: (r["created"], r["id"]), reverse=True)]


WORDS = ["amy", "Amy", "rocket", "rides", "bob", "x", "gold", "GOLD", "io", "am"]
word_text = st.lists(st.sampled_from(WORDS), min_size=1, max_size=3).map(" ".join)
# Addresses that share words and punctuation with each other, in several letter cases.
EMAILS = [
    "bob@corp.com",
    "BOB@Corp.com",
    "bob.corp.com@evil.io",
    "bob@corp.com.au",
    "bob-corp-com@x.io",
    "amy@rocket.io",
    "amy.rocket@io.io",
]
customer = st.fixed_dictionaries(
    {
        "name": st.one_of(
            st.none(),
            word_text,
            st.tuples(word_text, st.sampled_from([", ", "-", "  "]), word_text).map("".join),
        ),
        "email": st.one_of(
            st.none(),
            st.sampled_from(EMAILS),
            st.tuples(word_text, st.sampled_from(WORDS)).map(
                lambda t: f"{t[0].replace(' ', '.')}@{t[1]}.io"
            ),
        ),
        "phone": st.one_of(
            st.none(), st.sampled_from(["+1 555", "+1555", "555 1", "1 555 1", "(555) 1-1"])
        ),
        "metadata": st.dictionaries(
            st.sampled_from(["plan", "tier"]), st.sampled_from(WORDS), max_size=2
        ),
    }
)
value = st.one_of(
    word_text,
    st.sampled_from(EMAILS),
    st.sampled_from(["null", "amy@gold.io", "amy rocket", "555 1", "1 555", "", "--", "555"]),
)


@st.composite
def clauses(draw: Any) -> str:
    negate = draw(st.sampled_from(["", "", "-"]))
    field = draw(st.sampled_from(["name", "email", "phone", "metadata", "created"]))
    if field == "created":
        return f"{negate}created{draw(st.sampled_from([':', '=', '>', '<', '>=', '<=']))}{draw(st.integers(0, 6))}"
    text = draw(value)
    literal = "null" if text == "null" else '"' + text + '"'
    if field == "metadata":
        return f'{negate}metadata["{draw(st.sampled_from(["plan", "tier"]))}"]:{literal}'
    operator = ":" if literal == "null" or len(text) < 3 else draw(st.sampled_from([":", "~"]))
    return f"{negate}{field}{operator}{literal}"


queries = st.tuples(
    st.lists(clauses(), min_size=1, max_size=3), st.sampled_from([" ", " AND ", " OR "])
).map(lambda t: t[1].join(t[0]))


@pytest.mark.parametrize("store_name", sorted(STORE_FACTORIES))
@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(
    people=st.lists(customer, max_size=12), query_texts=st.lists(queries, min_size=1, max_size=5)
)
def test_every_store_agrees_with_the_reference_evaluator(
    store_name: str, people: list[dict[str, Any]], query_texts: list[str]
) -> None:
    with (
        tempfile.TemporaryDirectory() as directory,
        STORE_FACTORIES[store_name](Path(directory)) as store,
    ):
        clock = FakeClock(0)
        service = CustomerService(store, clock=clock, seed=1)
        for person in people:
            service.create(**{k: v for k, v in person.items() if v is not None})
            clock.advance(0.5)
        records = store.snapshot()["customers"]
        for text in query_texts:
            expected = reference(text, records)
            assert ids(service.search(query=text, limit=100)) == expected, text
            assert [
                r["id"] for r in search_engine.find(store, parse(text), KeyRange(), limit=3)
            ] == expected[:3], text

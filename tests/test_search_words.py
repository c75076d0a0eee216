"""Issue 11 items 1-2: ``:`` matches a phrase of whole words anywhere, an email is one word,
``svc.search`` takes the query positionally, and a schema migration posts the words."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest
import stripe

from customer_core import CustomerService, MemoryStore, SearchPage, SQLiteStore
from customer_core.store.base import KeyRange
from customer_core.store.sqlite import MIGRATIONS, _add_pair_postings, _add_word_postings
from customer_core.testing import FakeClock, StripeHTTPClient

from .test_create import error_of


def ids(page: SearchPage) -> list[str]:
    return [customer.id for customer in page.data]


@pytest.fixture
def people(service: CustomerService, clock: FakeClock) -> dict[str, str]:
    """The issue's examples, oldest first."""
    made = {}
    for name, email in [
        ("Ada Lovelace", "bob@corp.com"),
        ("Augusta Ada King", "Bob@Corp.com"),
        ("Bob Corp", "bob.corp.com@evil.io"),
        ("Lovelace", "bob@corp.com.au"),
        ("Jenny Rosen", "bob-corp-com@x.io"),
    ]:
        made[name] = service.create(name=name, email=email).id
        clock.advance(1)
    return made


def test_a_word_matches_anywhere_in_the_name(
    service: CustomerService, people: dict[str, str]
) -> None:
    assert ids(service.search('name:"lovelace"')) == [people["Lovelace"], people["Ada Lovelace"]]
    assert ids(service.search('name:"ada"')) == [people["Augusta Ada King"], people["Ada Lovelace"]]
    assert ids(service.search('name:"ADA KING"')) == [people["Augusta Ada King"]]
    assert ids(service.search('name:"king ada"')) == []
    assert ids(service.search('name:"love"')) == []  # whole words only
    assert ids(service.search('name~"love"')) == [people["Lovelace"], people["Ada Lovelace"]]


def test_find_by_email_returns_exactly_that_address_in_any_case(
    service: CustomerService, people: dict[str, str]
) -> None:
    found = service.search('email:"bob@corp.com"', expand=["total_count"])
    assert ids(found) == [people["Augusta Ada King"], people["Ada Lovelace"]]
    assert found.to_dict()["total_count"] == 2
    assert ids(service.search('email:"BOB@CORP.COM"')) == ids(found)
    assert ids(service.search('email:"bob"')) == []
    assert ids(service.search('email:"corp.com"')) == []


def test_the_query_may_be_passed_positionally_or_by_name(
    service: CustomerService, people: dict[str, str]
) -> None:
    positional = service.search('name:"lovelace"', limit=1)
    by_name = service.search(query='name:"lovelace"', limit=1)
    assert positional.to_dict() == by_name.to_dict()
    assert ids(positional) == [people["Lovelace"]] and positional.next_page
    rest = service.search('name:"lovelace"', limit=1, page=positional.next_page)
    assert ids(rest) == [people["Ada Lovelace"]] and rest.next_page is None
    # page=None and expand=None mean "not given", as the SDKs send them.
    assert service.search('name:"lovelace"', page=None, expand=None).to_dict() == (
        service.search('name:"lovelace"').to_dict()
    )
    assert service.search('name:"ada"', expand=("total_count",)).to_dict()["total_count"] == 2


def test_errors_for_a_missing_or_invalid_query_are_unchanged(service: CustomerService) -> None:
    missing = error_of(service.search)
    assert (missing.type, missing.code, missing.param, missing.message) == (
        "invalid_request_error",
        "parameter_missing",
        "query",
        "Missing required param: query.",
    )
    for empty in ("", None):
        error = error_of(service.search, empty)
        assert (error.code, error.param) == ("parameter_invalid_empty", "query")
    assert error_of(service.search, query="").code == "parameter_invalid_empty"
    malformed = error_of(service.search, "name:x")
    assert (malformed.param, malformed.message) == (
        "query",
        'Invalid search query: string values must be quoted, as in name:"x" (at position 5).',
    )
    assert error_of(service.search, 'name:"x"', limit=0).param == "limit"
    assert (
        error_of(service.search, 'name:"x"', bogus=1).message == "Received unknown parameter: bogus"
    )


def test_find_by_email_through_the_official_sdk() -> None:
    service = CustomerService(MemoryStore(), seed=3)
    client = stripe.StripeClient(
        "sk_test_123", http_client=StripeHTTPClient(service), max_network_retries=0
    )
    wanted = client.v1.customers.create(params={"email": "Bob@Corp.com", "name": "Bob"})
    for email in ("bob.corp.com@evil.io", "bob@corp.com.au", "bob-corp-com@x.io"):
        client.v1.customers.create(params={"email": email})
    found = client.v1.customers.search(params={"query": 'email:"bob@corp.com"'})
    assert [customer.id for customer in found.data] == [wanted.id]


WORDS_VERSION = next(
    number for number, steps in enumerate(MIGRATIONS, start=1) if _add_word_postings in steps
)
"""The schema version that posts the words (7); the next one posts pairs of words."""


def migrate(connection: sqlite3.Connection, versions: range) -> None:
    """Run the migrations to each of ``versions`` on a bare connection, as a store would."""
    for number in versions:
        for step in MIGRATIONS[number - 1]:
            if callable(step):
                step(connection)
            else:
                connection.execute(step)
        connection.execute("UPDATE schema_version SET version = ?", (number,))


@pytest.mark.parametrize("version", [WORDS_VERSION - 1, WORDS_VERSION])
def test_the_word_migrations_post_the_terms_of_an_older_file(tmp_path: Path, version: int) -> None:
    """From the version before the words (customers only) and from the words' version
    (words, no pairs): opening the file posts whatever is missing."""
    assert WORDS_VERSION == 7 and _add_pair_postings in MIGRATIONS[8]  # version 9
    path = tmp_path / "old.db"
    connection = sqlite3.connect(path, isolation_level=None)
    migrate(connection, range(1, WORDS_VERSION))
    rows = [
        ("cus_a", 5, "Bob@Corp.com", "bob corp com", "Augusta Ada King", "+1 555-0100"),
        ("cus_b", 6, "bob.corp.com@evil.io", "bob corp com evil io", "Ada Lovelace", None),
        ("cus_c", 7, None, None, None, None),
    ]
    for customer_id, created, email, email_words, name, phone in rows:
        body = json.dumps(
            {
                "id": customer_id,
                "object": "customer",
                "created": created,
                "email": email,
                "name": name,
                "phone": phone,
                "metadata": {"plan": "Gold"},
            },
            separators=(",", ":"),
        )
        connection.execute(
            "INSERT INTO customers (id, created, email, email_words, body) VALUES (?, ?, ?, ?, ?)",
            (customer_id, created, email, email_words, body),
        )
        connection.execute(
            "INSERT INTO customer_metadata VALUES ('plan', 'gold', ?, ?)", (created, customer_id)
        )
    migrate(connection, range(WORDS_VERSION, version + 1))
    if version == WORDS_VERSION:
        terms = {row[0] for row in connection.execute("SELECT word FROM customer_words")}
        assert "ada" in terms and "ada king" not in terms
    connection.close()
    with SQLiteStore(path) as store:
        store.check_consistency()  # every word and pair posted, the old email-words column emptied
        service = CustomerService(store)
        assert ids(service.search('email:"bob@corp.com"')) == ["cus_a"]
        assert ids(service.search('name:"ada"')) == ["cus_b", "cus_a"]
        assert ids(service.search('name:"ada king"')) == ["cus_a"]
        assert ids(service.search('phone:"555 0100"')) == ["cus_a"]
        assert ids(service.search('metadata["plan"]:"gold"')) == ["cus_c", "cus_b", "cus_a"]
        assert [c.id for c in service.list(email="Bob@Corp.com").data] == ["cus_a"]
        assert store.word_keys("name", ["king", "augusta"], KeyRange(), limit=5) == [(5, "cus_a")]
        assert store.word_keys("name", ["augusta ada"], KeyRange(), limit=5) == [(5, "cus_a")]
        assert store.word_keys("name", ["lovelace ada"], KeyRange(), limit=5) == []
        connection = sqlite3.connect(path)
        indexes = {row[0] for row in connection.execute("SELECT name FROM sqlite_master")}
        connection.close()
        assert "customers_by_email_words" not in indexes
        assert "customer_words" in indexes

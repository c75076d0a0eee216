"""MemoryStore's search entries of a create (its words but the email's, its metadata) are
made by the first search that needs them (``MemoryStore._index_searches``): searches,
lists by email, updates, deletes, aborts and checkpoints must not tell, and a list by
email never waits for them."""

from __future__ import annotations

import random

import pytest

from customer_core.search import engine as search_engine
from customer_core.search import parse
from customer_core.search.evaluate import matches
from customer_core.store import MemoryStore
from customer_core.store.base import KeyRange
from customer_core.testing.store_contract import ids, make_record

NAMES = ("Ada King", "Ada Lovelace", "Grace Hopper", "King Ada", None)
EMAILS = ("a@example.com", "B@example.com", "b@example.com", None)
PLANS = ("gold", "Gold", "silver")


def record(customer_id: str, created: int, rng: random.Random) -> dict[str, object]:
    return make_record(
        customer_id,
        created,
        email=rng.choice(EMAILS),
        name=rng.choice(NAMES),
        phone=rng.choice(("+1 555 0100", None)),
        metadata={"plan": rng.choice(PLANS), "n": customer_id[-1]},
    )


def test_a_create_leaves_its_search_entries_waiting_but_not_its_email() -> None:
    store = MemoryStore()
    created = make_record("cus_1", 10, email="A@example.com", name="Ada King")
    store.insert(created)
    assert list(store._by_words) == [("email", "a@example.com", 10, "cus_1")]
    assert list(store._by_metadata) == []
    created["metadata"]["n"] = "changed"  # the caller's record, changed after the write
    created["name"] = "Someone Else"
    assert ids(store.scan(email="A@example.com")) == ["cus_1"]
    assert store._unsearched, "a list by email must not wait for the other entries"
    found = search_engine.find(store, parse('name:"ada king"'), limit=10)
    assert ids(found) == ["cus_1"]
    assert not store._unsearched
    assert ids(search_engine.find(store, parse('metadata["n"]:"1"'), limit=10)) == ["cus_1"]
    store.check_consistency()


QUERIES = (
    'name:"ada"',
    'name:"ada king"',
    'name:"king ada"',
    'phone:"555"',
    'email:"b@example.com"',
    'metadata["plan"]:"gold"',
    'metadata["n"]:"3"',
    'name:"ada" AND metadata["plan"]:"silver"',
)


def expected(store: MemoryStore, query: str) -> list[str]:
    parsed = parse(query)
    return ids([r for r in store.scan(limit=None) if matches(parsed, r)])


@pytest.mark.parametrize("seed", range(12))
def test_random_writes_reads_and_aborts_agree_with_a_scan(seed: int) -> None:
    rng = random.Random(seed)
    store = MemoryStore()
    live: list[str] = []
    checkpoint = None
    for step in range(160):
        action = rng.random()
        if action < 0.35 or not live:
            customer_id = f"cus_{step:03d}"
            store.insert(record(customer_id, rng.randrange(50), rng))
            live.append(customer_id)
        elif action < 0.5:
            customer_id = rng.choice(live)
            old = store.get(customer_id)
            assert old is not None
            store.replace(record(customer_id, old["created"], rng))
        elif action < 0.58:
            customer_id = rng.choice(live)
            store.delete(customer_id)
            live.remove(customer_id)
        elif action < 0.68:
            before = store.snapshot()
            with pytest.raises(RuntimeError), store.transaction():
                store.insert(record(f"cus_x{step:03d}", rng.randrange(50), rng))
                target = rng.choice(live)
                old = store.get(target)
                assert old is not None
                store.replace(record(target, old["created"], rng))
                if rng.random() < 0.5:
                    search_engine.find(store, parse(rng.choice(QUERIES)), limit=100)
                store.insert_many([record(f"cus_y{step:03d}", rng.randrange(50), rng)])
                raise RuntimeError("abort")
            assert store.snapshot() == before
        elif action < 0.72:
            checkpoint = store.checkpoint()
            saved = list(live)
        elif action < 0.76 and checkpoint is not None:
            store.restore(checkpoint)
            live = list(saved)
        elif action < 0.85:
            email = rng.choice([e for e in EMAILS if e])
            assert ids(store.scan(email=email)) == [
                r["id"] for r in store.scan(limit=None) if r["email"] == email
            ]
        else:
            query = rng.choice(QUERIES)
            found = search_engine.find(store, parse(query), KeyRange(), limit=1000)
            assert ids(found) == expected(store, query), (step, query)
    store.check_consistency()
    for query in QUERIES:
        assert ids(search_engine.find(store, parse(query), limit=1000)) == expected(store, query)


@pytest.mark.parametrize("read_first", [False, True])
def test_an_aborted_create_leaves_no_search_entries(read_first: bool) -> None:
    store = MemoryStore()
    store.insert(make_record("cus_1", 10, email="a@example.com", name="Ada King"))
    with pytest.raises(RuntimeError), store.transaction():
        store.insert(make_record("cus_2", 20, email="b@example.com", name="Ada Lovelace"))
        if read_first:  # the aborted customer's entries are in the indexes by then
            assert len(search_engine.find(store, parse('name:"ada"'), limit=10)) == 2
        raise RuntimeError("abort")
    store.check_consistency()
    assert ids(search_engine.find(store, parse('name:"ada"'), limit=10)) == ["cus_1"]
    assert ids(search_engine.find(store, parse('metadata["n"]:"2"'), limit=10)) == []
    assert store.scan(email="b@example.com") == []

"""Store contract: search's ``:`` on email, name and phone, and the word index behind it.

Stripe: "an exact match on a string type returns any record where that record contains
all of the words from the query in the same order". The query's words must stand in the
value as one contiguous run, anywhere, whole words, any letter case; an email address is
one word (see ``customer_core.search.field_words``). ``StoreContract`` inherits these tests.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from ..store.base import KeyRange, Store

__all__ = ["SearchWordsContract"]

NAMES = {
    "cus_1": "Ada Lovelace",
    "cus_2": "Augusta Ada King",
    "cus_3": "King Ada",
    "cus_4": "Adam Lovelace-Byron",
    "cus_5": "ADA   lovelace",
    "cus_6": "Lovelace, Ada",
    "cus_7": "Jenny Ada Ada",
}

EMAILS = {
    "cus_1": "bob@corp.com",
    "cus_2": "BOB@Corp.COM",
    "cus_3": "bob.corp.com@evil.io",
    "cus_4": "bob@corp.com.au",
    "cus_5": "bob-corp-com@x.io",
    "cus_6": "xbob@corp.com",
    "cus_7": None,
}

PHONES = {
    "cus_1": "+1 555-0100",
    "cus_2": "+15550100",
    "cus_3": "555 0100 ext 7",
    "cus_4": None,
    "cus_5": "",
    "cus_6": "+44 20 7946 0958",
    "cus_7": "0100 555",
}


class SearchWordsContract:
    """Phrase semantics of ``:`` on string fields, and ``Store.word_keys`` (words and
    pairs of adjacent words)."""

    if TYPE_CHECKING:

        def search(
            self, store: Store, query: str, key_range: KeyRange = ..., limit: int = ...
        ) -> list[str]: ...

    @pytest.fixture
    def worded(self, store: Store) -> Store:
        """Seven customers, cus_1 oldest (created 10) to cus_7 newest (created 70)."""
        from .store_contract import make_record  # that module imports this one

        for number, customer_id in enumerate(NAMES, start=1):
            store.insert(
                make_record(
                    customer_id,
                    10 * number,
                    email=EMAILS[customer_id],
                    name=NAMES[customer_id],
                    phone=PHONES[customer_id],
                )
            )
        return store

    @pytest.mark.parametrize(
        ("query", "expected"),
        [
            # A word anywhere in the value, not only at its start.
            ('name:"lovelace"', ["cus_6", "cus_5", "cus_4", "cus_1"]),
            ('name:"ada"', ["cus_7", "cus_6", "cus_5", "cus_3", "cus_2", "cus_1"]),
            ('name:"King"', ["cus_3", "cus_2"]),
            # Several words: a contiguous run, in the query's order.
            ('name:"ada king"', ["cus_2"]),
            ('name:"king ada"', ["cus_3"]),
            ('name:"ada lovelace"', ["cus_5", "cus_1"]),
            ('name:"lovelace ada"', ["cus_6"]),
            ('name:"augusta king"', []),
            ('name:"ada ada"', ["cus_7"]),
            ('name:"jenny ada ada"', ["cus_7"]),
            # Whole words: a word's beginning is not enough (that is what ~ is for).
            ('name:"adam"', ["cus_4"]),
            ('name:"lovelace byron"', ["cus_4"]),
            ('name:"love"', []),
            ('name:"jen"', []),
            # Anything but letters and digits separates words, in the value and the query.
            ('name:"LOVELACE,   ada!"', ["cus_6"]),
            ('name:"lovelace-byron"', ["cus_4"]),
            # A query without words matches nothing (and its negation everything).
            ('name:"--"', []),
            ('name:""', []),
            ('-name:"--"', ["cus_7", "cus_6", "cus_5", "cus_4", "cus_3", "cus_2", "cus_1"]),
            # Combined with other clauses.
            ('name:"ada" name:"king"', ["cus_3", "cus_2"]),
            ('name:"ada" -name:"lovelace"', ["cus_7", "cus_3", "cus_2"]),
            ('name:"ada" created<=30', ["cus_3", "cus_2", "cus_1"]),
            ('name:"king" OR name:"adam"', ["cus_4", "cus_3", "cus_2"]),
        ],
    )
    def test_name_words_match_as_a_phrase_anywhere(
        self, worded: Store, query: str, expected: list[str]
    ) -> None:
        assert self.search(worded, query) == expected

    @pytest.mark.parametrize(
        ("query", "expected"),
        [
            # The whole address is one word, compared in any letter case.
            ('email:"bob@corp.com"', ["cus_2", "cus_1"]),
            ('email:"BOB@CORP.COM"', ["cus_2", "cus_1"]),
            ('email:"bob.corp.com@evil.io"', ["cus_3"]),
            ('email:"bob@corp.com.au"', ["cus_4"]),
            # Parts of an address are not words of it.
            ('email:"bob"', []),
            ('email:"corp.com"', []),
            ('email:"bob corp com"', []),
            ('email:"bob@corp"', []),
            ('email:""', []),
            ('-email:"bob@corp.com"', ["cus_7", "cus_6", "cus_5", "cus_4", "cus_3"]),
            ('email:"bob@corp.com" name:"king"', ["cus_2"]),
            ('email:"bob@corp.com" created>10', ["cus_2"]),
            # ~ still finds parts of addresses.
            ('email~"corp.com"', ["cus_6", "cus_4", "cus_3", "cus_2", "cus_1"]),
        ],
    )
    def test_email_is_one_word_the_whole_address(
        self, worded: Store, query: str, expected: list[str]
    ) -> None:
        assert self.search(worded, query) == expected

    @pytest.mark.parametrize(
        ("query", "expected"),
        [
            ('phone:"555"', ["cus_7", "cus_3", "cus_1"]),
            ('phone:"555 0100"', ["cus_3", "cus_1"]),
            ('phone:"+1 555 0100"', ["cus_1"]),
            ('phone:"(555) 0100"', ["cus_3", "cus_1"]),
            ('phone:"+15550100"', ["cus_2"]),
            ('phone:"5550100"', []),
            ('phone:"0100 555"', ["cus_7"]),
            ('phone:"7946 0958"', ["cus_6"]),
            ("phone:null", ["cus_5", "cus_4"]),
        ],
    )
    def test_phone_words_match_as_a_phrase(
        self, worded: Store, query: str, expected: list[str]
    ) -> None:
        assert self.search(worded, query) == expected

    def test_word_keys_are_newest_first_within_the_range_and_limit(self, worded: Store) -> None:
        assert worded.word_keys("name", ["ada"], KeyRange(), limit=3) == [
            (70, "cus_7"),
            (60, "cus_6"),
            (50, "cus_5"),
        ]
        below = KeyRange(upper=(50, "cus_5"), upper_inclusive=False)
        assert worded.word_keys("name", ["ada"], below, limit=10) == [
            (30, "cus_3"),
            (20, "cus_2"),
            (10, "cus_1"),
        ]
        between = KeyRange(lower=(20, "cus_2"), upper=(30, "cus_3"))
        assert worded.word_keys("name", ["ada"], between, limit=10) == [
            (30, "cus_3"),
            (20, "cus_2"),
        ]
        assert worded.word_keys("name", ["love"], KeyRange(), limit=10) == []
        assert worded.word_keys("phone", ["ada"], KeyRange(), limit=10) == []

    def test_word_keys_hold_every_word_in_any_order_and_place(self, worded: Store) -> None:
        # The index narrows to customers with all the words; the phrase's order is
        # search's to check.
        assert worded.word_keys("name", ["king", "ada"], KeyRange(), limit=10) == [
            (30, "cus_3"),
            (20, "cus_2"),
        ]
        assert worded.word_keys("name", ["ada", "ada"], KeyRange(), limit=10) == (
            worded.word_keys("name", ["ada"], KeyRange(), limit=10)
        )
        assert worded.word_keys("name", ["ada", "augusta", "king"], KeyRange(), limit=1) == [
            (20, "cus_2")
        ]
        assert worded.word_keys("name", ["ada", "byron"], KeyRange(), limit=10) == []

    def test_word_keys_find_pairs_of_adjacent_words(self, worded: Store) -> None:
        # A value's terms are its words and its pairs of adjacent words, joined by a space.
        assert worded.word_keys("name", ["ada king"], KeyRange(), limit=10) == [(20, "cus_2")]
        assert worded.word_keys("name", ["king ada"], KeyRange(), limit=10) == [(30, "cus_3")]
        assert worded.word_keys("name", ["ada ada"], KeyRange(), limit=10) == [(70, "cus_7")]
        assert worded.word_keys("name", ["lovelace byron"], KeyRange(), limit=10) == [(40, "cus_4")]
        assert worded.word_keys("name", ["augusta ada", "ada king"], KeyRange(), limit=10) == [
            (20, "cus_2")
        ]
        assert worded.word_keys("name", ["augusta king"], KeyRange(), limit=10) == []
        assert worded.word_keys("phone", ["555 0100"], KeyRange(), limit=10) == [
            (30, "cus_3"),
            (10, "cus_1"),
        ]
        assert worded.word_keys("email", ["bob@corp.com bob@corp.com"], KeyRange(), limit=9) == []

    def test_email_word_is_the_lowercase_address(self, worded: Store) -> None:
        assert worded.word_keys("email", ["bob@corp.com"], KeyRange(), limit=10) == [
            (20, "cus_2"),
            (10, "cus_1"),
        ]
        assert worded.word_keys("email", ["bob"], KeyRange(), limit=10) == []
        # The list's exact email filter reads the same group and keeps the exact spelling.
        assert [record["id"] for record in worded.scan(email="BOB@Corp.COM")] == ["cus_2"]

    def test_word_index_follows_replaced_and_deleted_records(self, worded: Store) -> None:
        record = worded.get("cus_2")
        assert record is not None
        worded.replace({**record, "name": "Grace Hopper", "email": "Grace@Navy.mil", "phone": None})
        assert self.search(worded, 'name:"ada king"') == []
        assert self.search(worded, 'name:"hopper"') == ["cus_2"]
        assert self.search(worded, 'email:"grace@navy.mil"') == ["cus_2"]
        assert self.search(worded, 'email:"bob@corp.com"') == ["cus_1"]
        assert self.search(worded, 'phone:"15550100"') == []
        # A name whose words only repeat or change case keeps the same postings.
        worded.replace({**record, "name": "GRACE grace Hopper", "email": "grace@navy.mil"})
        assert self.search(worded, 'name:"grace grace"') == ["cus_2"]
        assert self.search(worded, 'email:"GRACE@NAVY.MIL"') == ["cus_2"]
        worded.delete("cus_1")
        assert self.search(worded, 'name:"lovelace"') == ["cus_6", "cus_5", "cus_4"]
        assert self.search(worded, 'email:"bob@corp.com"') == []
        assert worded.word_keys("name", ["ada"], KeyRange(), limit=10)[-1] == (30, "cus_3")

    def test_common_words_page_through_every_match(self, store: Store) -> None:
        # More matches than one chunk of candidates: pages walk on without gaps.
        from .store_contract import make_record

        for number in range(450):
            name = f"Jenny Rosen {number}" if number % 3 else f"Rosen Jenny {number}"
            store.insert(make_record(f"cus_{number:04d}", number, name=name))
        expected = [f"cus_{number:04d}" for number in range(449, -1, -1) if number % 3]
        assert self.search(store, 'name:"jenny rosen"', limit=1000) == expected
        assert self.search(store, 'name:"rosen 7"') == ["cus_0007"]
        assert self.search(store, 'name:"jenny rosen"', limit=5) == expected[:5]

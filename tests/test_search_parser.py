"""The search query language: what parses, and the errors for what does not."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from customer_core.search import Clause, Query, QueryError, parse


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('email:"amy@rocketrides.io"', Query((Clause("email", ":", "amy@rocketrides.io"),))),
        ("name~'amy'", Query((Clause("name", "~", "amy"),))),
        ("created>1620310503", Query((Clause("created", ">", 1620310503),))),
        ('created<="1620310503"', Query((Clause("created", "<=", 1620310503),))),
        (
            "created=5 created>=1 created<9",
            Query(
                (Clause("created", "=", 5), Clause("created", ">=", 1), Clause("created", "<", 9))
            ),
        ),
        ('metadata["donation-id"]:null', Query((Clause("metadata", ":", None, "donation-id"),))),
        ("-metadata['k']:NULL", Query((Clause("metadata", ":", None, "k", negated=True),))),
        (
            'name:"Jane Doe" AND metadata["foo"]:"bar"',
            Query((Clause("name", ":", "Jane Doe"), Clause("metadata", ":", "bar", "foo"))),
        ),
        (
            'name:"a" or phone:"+1"',
            Query((Clause("name", ":", "a"), Clause("phone", ":", "+1")), "OR"),
        ),
        ('name:"say \\"hi\\""', Query((Clause("name", ":", 'say "hi"'),))),
        ("name:'it\\'s'", Query((Clause("name", ":", "it's"),))),
        (
            '  -email:"x"   name:"y"  ',
            Query((Clause("email", ":", "x", negated=True), Clause("name", ":", "y"))),
        ),
    ],
)
def test_valid_queries_parse_to_the_expected_ast(text: str, expected: Query) -> None:
    assert parse(text) == expected


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "the query is empty (at position 0)"),
        ("   ", "the query is empty (at position 3)"),
        (
            'description:"x"',
            "unknown field 'description'; customers can be searched by created, email, metadata, name, phone (at position 0)",
        ),
        ('name>"x"', "operator '>' is not valid for the string field name (at position 4)"),
        (
            'metadata["k"]~"abc"',
            "operator '~' is not valid for the token field metadata (at position 13)",
        ),
        ("created~5", "operator '~' is not valid for the numeric field created (at position 7)"),
        ('name:"unterminated', "unterminated quoted value (at position 5)"),
        ('metadata["k:"v"', "expected ']' after the metadata key (at position 13)"),
        (
            'name:"a" OR email:"b" AND phone:"c"',
            "AND and OR cannot be mixed in one query (a space means AND) (at position 22)",
        ),
        (
            'name:"a" OR email:"b" phone:"c"',
            "AND and OR cannot be mixed in one query (a space means AND) (at position 22)",
        ),
        ('name~"ab"', "a substring search with '~' needs at least 3 characters (at position 5)"),
        ("name:amy", 'string values must be quoted, as in name:"amy" (at position 5)'),
        ("created>soon", "created takes a 64-bit integer, not 'soon' (at position 8)"),
        (
            "created>9223372036854775808",
            "created takes a 64-bit integer, not '9223372036854775808' (at position 8)",
        ),
        ('created>"1e5"', "created takes a 64-bit integer, not '1e5' (at position 8)"),
        ("name>null", "operator '>' is not valid for the string field name (at position 4)"),
        ("created>null", "null can only be used with ':', not '>' (at position 8)"),
        ('name:"x" AND', "AND must be followed by a space and a clause (at position 12)"),
        (
            'name:"x"(',
            "unexpected '(' after a clause; separate clauses with spaces, AND or OR (at position 8)",
        ),
        (
            '(name:"x")',
            'expected a field name such as email, name, phone, created or metadata["key"] (at position 0)',
        ),
        ("name", "expected an operator (one of >= <= : ~ > < =) after name (at position 4)"),
        ("name:", "expected a value after name: (at position 5)"),
        ('metadata:"x"', 'metadata needs a key in brackets, as in metadata["key"] (at position 8)'),
    ],
)
def test_malformed_queries_say_what_is_wrong_and_where(text: str, message: str) -> None:
    with pytest.raises(QueryError) as caught:
        parse(text)
    assert caught.value.message == f"Invalid search query: {message}."
    assert (caught.value.param, caught.value.http_status, caught.value.type) == (
        "query",
        400,
        "invalid_request_error",
    )


ALPHABET = st.sampled_from(
    list("emailnamephonecreatedmetadata[]\"'\\:~<>=- ANDORnull0123456789xyz\t")
)


@settings(max_examples=1500, deadline=None)
@given(st.one_of(st.text(max_size=40), st.text(ALPHABET, max_size=40)))
def test_random_strings_parse_or_raise_a_query_error(text: str) -> None:
    try:
        query = parse(text)
    except QueryError as error:
        assert error.param == "query"
    else:
        assert query.clauses

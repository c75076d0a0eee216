"""Error messages that point at what the caller wrote: a search value suggestion with the
metadata key, a form conflict naming the whole bracketed name, an unknown operation named
before any id is asked for (each one misled a tester)."""

from __future__ import annotations

import pytest

from customer_core import CustomerService, InvalidRequestError
from customer_core.search import QueryError


def test_an_unquoted_metadata_value_suggests_the_field_as_written(
    service: CustomerService,
) -> None:
    with pytest.raises(QueryError) as caught:
        service.search(query='metadata["plan"]:gold')
    assert caught.value.message == (
        'Invalid search query: string values must be quoted, as in metadata["plan"]:"gold" '
        "(at position 17)."
    )


def test_an_unknown_operation_is_named_before_the_id(service: CustomerService) -> None:
    with pytest.raises(InvalidRequestError) as caught:
        service.perform("nope", {})  # type: ignore[arg-type]
    assert caught.value.message == (
        "Unknown operation 'nope'; expected one of create, retrieve, update, delete, list, search."
    )
    assert service.list().data == []

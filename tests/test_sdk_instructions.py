"""The instruction-count benchmark's parts run without valgrind (its child does the calls),
and its reading of callgrind's output takes the count or says what went wrong."""

from __future__ import annotations

import pytest

from benchmarks import sdk_instructions


@pytest.mark.parametrize("mode", sdk_instructions.MODES + sdk_instructions.SERVED_MODES)
def test_each_child_makes_its_calls(mode: str) -> None:
    sdk_instructions.child(mode, 2, 3)


def test_the_collected_count_is_read_from_callgrinds_summary() -> None:
    output = "==12== Events    : Ir\n==12== Collected : 3240839123\n==12==\n==12== I   refs:  3,240,839,123\n"
    assert sdk_instructions.collected(output) == 3240839123
    with pytest.raises(RuntimeError, match="no 'Collected' count"):
        sdk_instructions.collected("valgrind: command not found")

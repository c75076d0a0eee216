"""The command line's request errors name the param they are about when Stripe's message
does not (the CLI prints no error body, so ``This value must be greater than or equal to
1.`` alone left the user guessing which value), in the ``param: message`` form the import
errors use; messages that already name it, and 404s about the id argument, stay as they are.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from customer_core.cli import main


def _error(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str]:
    capsys.readouterr()
    status = main(list(argv))
    captured = capsys.readouterr()
    assert captured.out == ""
    return status, captured.err


@pytest.fixture
def data(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> str:
    path = str(tmp_path / "customers.db")
    assert main(["create", "--db", path, "-d", "email=jenny@example.com"]) == 0
    capsys.readouterr()
    return path


@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        (
            ["list", "-d", "limit=0"],
            "error: limit: This value must be greater than or equal to 1.\n",
        ),
        (["list", "-d", "limit=abc"], "error: limit: Invalid integer: abc\n"),
        (
            ["list", "-d", "starting_after=cus_nope"],
            "error: starting_after: No such customer: 'cus_nope'\n",
        ),
        (
            ["create", "-d", "metadata[plan][tier]=gold"],
            'error: metadata: Invalid value type: {"tier": "gold"} must be a string\n',
        ),
        (
            ["create", "-d", "phone=" + "1" * 21],
            "error: phone: Invalid string: " + "1" * 21 + "; must be at most 20 characters\n",
        ),
        (
            ["events", "list", "-d", "limit=101"],
            "error: limit: This value must be less than or equal to 100.\n",
        ),
    ],
)
def test_the_param_is_named_when_the_message_does_not(
    capsys: pytest.CaptureFixture[str], data: str, argv: list[str], expected: str
) -> None:
    assert _error(capsys, *argv, "--db", data) == (1, expected)


@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        (["create", "-d", "email=nope"], "error: Invalid email address: nope\n"),
        (["create", "-d", "bogus=1"], "error: Received unknown parameter: bogus\n"),
        (
            ["create", "-d", "tax_exempt=bogus"],
            "error: Invalid tax_exempt: must be one of none, reverse, or exempt\n",
        ),
        (["retrieve", "cus_nope"], "error: No such customer: 'cus_nope'\n"),
        (["update", "cus_nope", "-d", "name=x"], "error: No such customer: 'cus_nope'\n"),
        (["events", "retrieve", "evt_nope"], "error: No such event: 'evt_nope'\n"),
    ],
)
def test_messages_that_name_it_and_404s_stay_as_they_are(
    capsys: pytest.CaptureFixture[str], data: str, argv: list[str], expected: str
) -> None:
    assert _error(capsys, *argv, "--db", data) == (1, expected)

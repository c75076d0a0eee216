"""The command line's help says what each command and action does, with examples that
command takes, and a port that cannot be is a usage error like any other (trial 5)."""

from __future__ import annotations

import pytest

from customer_core.cli import main


@pytest.fixture(autouse=True)
def _wide_terminal(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COLUMNS", "1000")  # one line per option


def help_of(argv: list[str], capsys: pytest.CaptureFixture[str]) -> str:
    with pytest.raises(SystemExit) as exit_info:
        main([*argv, "--help"])
    assert exit_info.value.code == 0
    return capsys.readouterr().out


@pytest.mark.parametrize(
    ("argv", "description", "example"),
    [
        (["events", "list"], "Events newest first (params: limit,", "-d type=customer.updated"),
        (["events", "retrieve"], "One event by id.", None),
        (["webhooks", "attempts"], "Delivery attempts newest first", "-d endpoint=we_"),
        (["retrieve"], "Retrieve a customer.", "-d 'expand[]=tax_ids'"),
        (["delete"], "Delete a customer", "-d KEY=VALUE (Stripe's delete takes none)"),
        (["create"], "Create a customer.", "-d email=a@b.co"),
    ],
)
def test_each_action_describes_itself(
    argv: list[str], description: str, example: str | None, capsys: pytest.CaptureFixture[str]
) -> None:
    words = help_of(argv, capsys)
    assert words.splitlines()[2].startswith(description)
    if example is not None:
        assert f"a Stripe param, as in {example}" in words
    if argv[-1] in ("retrieve", "delete"):
        assert "email=" not in words


def test_deliver_busy_timeout_help_does_not_promise_a_503(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert "before it fails (serve answers 503)" in help_of(["deliver"], capsys)


@pytest.mark.parametrize(
    ("port", "complaint"),
    [
        ("99999", "99999 is not a port (0 to 65535)"),
        ("-1", "-1 is not a port (0 to 65535)"),
        ("http", "invalid port: 'http'"),
    ],
)
def test_a_port_that_cannot_be_is_a_usage_error(
    port: str, complaint: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["serve", "--api-key", "sk_test_x", "--port", port])
    assert exit_info.value.code == 2
    assert capsys.readouterr().err.splitlines()[-1] == (
        f"customer-core serve: error: argument --port: {complaint}"
    )

"""The testing benchmark runs end to end at a tiny size and prints its three tables."""

from __future__ import annotations

from .benchmark_tables import printed_lines


def test_testing_benchmark_prints_its_tables() -> None:
    lines = printed_lines(
        "testing_bench",
        *("--sizes", "200", "--tests", "20", "--ops", "20", "--rounds", "1"),
        timeout=300,
    )
    assert any(line.startswith("| memory | 200 |") for line in lines)
    assert any(line.startswith("| sqlite | 200 |") for line in lines)
    fixture = lines[
        lines.index(
            "| build alone ms | setup+teardown with it ms | without ms | fixture per test ms |"
        )
        + 2
    ]
    assert len(fixture.strip("|").split("|")) == 4
    for call in ("create", "retrieve"):
        row = next(line for line in lines if line.startswith(f"| {call} |"))
        ratio = float(row.strip("|").split("|")[-1])
        assert ratio > 0


def test_the_canned_bodies_hold_the_same_customer() -> None:
    import json

    import stripe

    from benchmarks.testing_bench import canned_body
    from customer_core import CustomerService, MemoryStore
    from customer_core.testing import FakeClock, StripeHTTPClient

    service = CustomerService(MemoryStore(), clock=FakeClock(1_700_000_000), seed=1)
    client = stripe.StripeClient("sk_test_x", http_client=StripeHTTPClient(service))
    made = client.v1.customers.create(params={"email": "jenny@example.com"})
    served = canned_body(made, "served")
    assert served == service.retrieve(made.id).to_json(indent=2).decode() + "\n"
    assert "\n  " in served and "\n" not in canned_body(made, "compact")
    assert json.loads(served) == json.loads(canned_body(made, "compact"))

"""With the plugin's clock and seed, a test's every output is the same bytes in every run."""

from __future__ import annotations

import pytest

pytest_plugins = ["pytester"]

# Everything a test sees: response bodies and request ids through the SDK (in-process and
# through mock_stripe), errors, idempotent replays, and the whole store at the end (tax
# IDs, tombstones, prefixes, idempotency keys, and whatever else snapshot() holds).
TRANSCRIPT_TEST = """
import json
import os

import stripe


def test_transcript(customer_service, customer_clock, stripe_client, stripe_mock):
    lines = []

    def note(obj):
        response = obj.last_response
        lines.append([response.code, dict(response.headers), response.body])

    customers = stripe_client.v1.customers
    jenny = customers.create(
        params={"email": "jenny@example.com", "name": "Jenny", "metadata": {"plan": "gold"},
                "tax_id_data": [{"type": "eu_vat", "value": "DE123456789"}],
                "expand": ["tax_ids"]},
        options={"idempotency_key": "key-1"},
    )
    note(jenny)
    note(customers.create(params={"email": "jenny@example.com", "name": "Jenny",
                                  "metadata": {"plan": "gold"},
                                  "tax_id_data": [{"type": "eu_vat", "value": "DE123456789"}],
                                  "expand": ["tax_ids"]},
                          options={"idempotency_key": "key-1"}))
    customer_clock.advance(3600)
    for n in range(3):
        note(customers.create(params={"email": f"user{n}@example.com"}))
    note(customers.update(jenny.id, params={"metadata": {"plan": ""}}))
    note(customers.list(params={"limit": 2}))
    note(customers.search(params={"query": 'email:"user1@example.com"'}))
    try:
        customers.create(params={"email": "not an email"})
    except stripe.InvalidRequestError as error:
        lines.append([error.request_id, error.http_status, error.http_body])
    stripe.api_key = "sk_test_global"
    try:
        note(stripe.Customer.create(email="global@example.com"))
        note(stripe.Customer.delete(jenny.id))
    finally:
        stripe.api_key = None
    snapshot = customer_service.store.snapshot()
    lines.append(json.dumps(snapshot, sort_keys=True, default=str))
    with open(os.environ["TRANSCRIPT"], "w") as out:
        out.write(json.dumps(lines, indent=1))
"""


@pytest.mark.parametrize("store", ["memory", "sqlite"])
def test_two_fresh_processes_write_the_same_bytes(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch, store: str
) -> None:
    pytester.makepyfile(test_transcript=TRANSCRIPT_TEST)
    transcripts = []
    for run, hash_seed in enumerate(["1", "2"]):
        out = pytester.path / f"transcript-{run}.json"
        monkeypatch.setenv("TRANSCRIPT", str(out))
        monkeypatch.setenv("PYTHONHASHSEED", hash_seed)  # set and iteration orders differ
        result = pytester.runpytest_subprocess(f"--customer-core-store={store}")
        result.assert_outcomes(passed=1)
        transcripts.append(out.read_bytes())
    first, second = transcripts
    assert first == second
    # Not trivially equal: ids, prefixes, created, request ids and replays are all in it.
    text = first.decode()
    for expected in (
        "cus_",
        "txi_",
        "evt_",
        "req_",
        "invoice_prefix",
        "1700003600",
        "Idempotent-Replayed",
    ):
        assert expected in text

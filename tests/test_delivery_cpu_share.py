"""An in-process delivery worker keeps to a share of one core (``cpu_share``), measured as
its threads' CPU time, so the API in the same process keeps most of the interpreter lock;
a delivery process (``customer-core deliver``) has no limit."""

from __future__ import annotations

import pytest

from customer_core import CustomerService, MemoryStore
from customer_core.events.delivery import IN_PROCESS_CPU_SHARE, DeliveryWorker, _CpuBudget
from customer_core.testing.receiver import WebhookReceiver


def test_the_budget_lets_a_burst_through_then_asks_for_pauses_in_proportion() -> None:
    budget = _CpuBudget(0.25, burst=0.02)
    assert budget.spend(0.01) == 0.0  # within the burst saved up
    pause = budget.spend(0.02)  # 0.01 over: 0.04 s of wall time at a quarter of a core
    assert 0.03 < pause <= 0.04
    assert budget.spend(10.0) == 1.0  # a pause is never longer than a second


def test_cpu_share_is_checked_and_defaults_to_the_in_process_share() -> None:
    service = CustomerService(MemoryStore())
    for share in (0, -0.1, 1.5):
        with pytest.raises(ValueError, match="cpu_share"):
            DeliveryWorker(service.webhooks, cpu_share=share)
    assert 0 < IN_PROCESS_CPU_SHARE < 1
    assert DeliveryWorker(service.webhooks)._budget is not None
    assert DeliveryWorker(service.webhooks, cpu_share=None)._budget is None


def test_a_worker_kept_to_a_small_share_still_delivers_every_event() -> None:
    service = CustomerService(MemoryStore())
    with WebhookReceiver() as receiver:
        service.webhook_endpoints.create(url=receiver.url, enabled_events=["*"])
        with service.webhooks.start_delivery(cpu_share=0.05):
            ids = {service.create(email=f"a{n}@example.com").id for n in range(30)}
            requests = receiver.wait_for(30, timeout=60)
    assert {request.json()["data"]["object"]["id"] for request in requests} == ids

"""An in-process delivery worker takes more than its share while the rest of its process
(the API) is idle, and drops back to it within a window once the API is busy."""

from __future__ import annotations

import subprocess
import sys
import time

import pytest

from customer_core import CustomerService, MemoryStore
from customer_core.events.delivery import (
    IDLE_CPU_SHARE,
    IDLE_WINDOW,
    IN_PROCESS_CPU_SHARE,
    DeliveryWorker,
    _CpuBudget,
)

_IDLE_THEN_BUSY = """
import time
from customer_core.events.delivery import IDLE_WINDOW, _CpuBudget

budget = _CpuBudget(0.1, burst=0.0, idle_share=0.9)
time.sleep(IDLE_WINDOW * 4)  # nothing else runs in this process: its API is idle
budget.spend(0.0)  # closes the window: the idle share from now on
idle = budget.spend(0.009)
until = time.thread_time() + IDLE_WINDOW * 2
while time.thread_time() < until:  # the API works: far more than API_IDLE of a core
    pass
budget.spend(0.0)  # closes the window: back to the share
print(idle, budget.spend(0.009))
"""


def test_the_budget_grows_at_the_idle_share_while_the_rest_of_the_process_is_idle() -> None:
    # A fresh interpreter: no thread of another test may count as a busy API.
    done = subprocess.run(
        [sys.executable, "-c", _IDLE_THEN_BUSY],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    idle, busy = map(float, done.stdout.split())
    assert idle == pytest.approx(0.009 / 0.9)  # 9 ms of CPU at 0.9 of a core
    assert busy == pytest.approx(0.009 / 0.1)  # the same at 0.1 of a core


def test_without_an_idle_share_the_budget_keeps_its_share() -> None:
    budget = _CpuBudget(0.25, burst=0.0)
    time.sleep(IDLE_WINDOW * 2)
    budget.spend(0.0)
    assert budget.spend(0.01) == pytest.approx(0.04)  # 10 ms at a quarter of a core


def test_an_in_process_worker_has_the_idle_share_and_its_floor() -> None:
    service = CustomerService(MemoryStore())
    assert 0 < IN_PROCESS_CPU_SHARE < IDLE_CPU_SHARE < 1
    budget = DeliveryWorker(service.webhooks)._budget
    assert budget is not None
    assert (budget._share, budget._idle_share) == (IN_PROCESS_CPU_SHARE, IDLE_CPU_SHARE)
    # A share asked for above the idle share is kept whatever the API does.
    budget = DeliveryWorker(service.webhooks, cpu_share=0.95)._budget
    assert budget is not None and budget._idle_share == 0.95

"""An in-process delivery worker takes more than its share while the rest of its process
(the API) is idle, and drops back to it within a window once the API is busy."""

from __future__ import annotations

import subprocess
import sys
import time

import pytest

from customer_core import CustomerService, MemoryStore
from customer_core.events.delivery import (
    BUSY_FLOOR,
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
budget.spend(0.0)  # closes the window: back to the share (of the cores the API got)
print(idle, budget.spend(0.009), budget._rate)
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
    idle, busy, rate = map(float, done.stdout.split())
    assert idle == pytest.approx(0.009 / 0.9)  # 9 ms of CPU at 0.9 of a core
    # The same at 0.1 of the cores the busy loop got (one, or less on a loaded machine).
    assert 0.1 * BUSY_FLOOR <= rate <= 0.1
    assert busy == pytest.approx(0.009 / rate)


class FakeCpu:
    """A wall clock and a process CPU clock the test moves by hand."""

    def __init__(self) -> None:
        self.wall = 100.0
        self.cpu = 10.0

    def work(self, seconds: float, cores: float) -> None:
        """``seconds`` of wall time in which the process used ``cores``."""
        self.wall += seconds
        self.cpu += seconds * cores


@pytest.mark.parametrize(
    ("api_cores", "rate"),
    [
        (1.0, 0.1),  # a whole core: the share of it
        (1.6, 0.1),  # more than one (threads of the API): still the share of one core
        (0.5, 0.05),  # a loaded machine gave the API half a core: the share of that half
        (0.1, 0.1 * BUSY_FLOOR),  # a lightly loaded API: the floor
        (0.01, 0.9),  # an idle API: the idle share
    ],
)
def test_a_busy_apis_share_is_of_the_cores_it_got(api_cores: float, rate: float) -> None:
    cpu = FakeCpu()
    budget = _CpuBudget(
        0.1, burst=0.0, idle_share=0.9, clock=lambda: cpu.wall, process_time=lambda: cpu.cpu
    )
    cpu.work(IDLE_WINDOW * 2, api_cores)
    budget.spend(0.0)  # closes the window
    assert budget._rate == pytest.approx(rate)
    assert budget.spend(0.01) == pytest.approx(0.01 / rate)


def test_the_workers_own_cpu_is_not_counted_as_the_apis() -> None:
    cpu = FakeCpu()
    budget = _CpuBudget(
        0.1, burst=0.0, idle_share=0.9, clock=lambda: cpu.wall, process_time=lambda: cpu.cpu
    )
    cpu.work(IDLE_WINDOW * 2, 0.5)
    budget.spend(IDLE_WINDOW * 2 * 0.3)  # of the process's half core, 0.3 was the worker's
    assert budget._rate == pytest.approx(0.1 * BUSY_FLOOR)  # the API got 0.2: the floor


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

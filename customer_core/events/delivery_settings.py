"""``DeliveryWorker``'s settings (``start_delivery(**options)``), checked when it is built:
a value of the wrong kind or out of range is refused naming the option, instead of a raw
TypeError from a comparison, a worker whose loop fails every round (a ``retention`` that is
a str) or a sender process that dies at start (a ``concurrency`` of 2.5)."""

from __future__ import annotations

import math

from ..settings import check_count, check_flag, check_seconds
from .outbox import RetryPolicy

__all__ = ["check_worker_settings"]


def check_worker_settings(
    *,
    retry: object,
    timeout: object,
    concurrency: object,
    batch_size: object,
    poll_interval: object,
    linger: object,
    lease: object,
    retention: object,
    cpu_share: object,
    sender_process: object,
    busy_rate: object,
) -> None:
    """Refuse a misconfigured worker (TypeError or ValueError naming the option)."""
    if retry is not None and not isinstance(retry, RetryPolicy):
        msg = f"retry must be a RetryPolicy or None, not {retry!r}."
        raise TypeError(msg)
    seconds = check_seconds("timeout", timeout)
    check_count("concurrency", concurrency)
    check_count("batch_size", batch_size)
    check_seconds("poll_interval", poll_interval)
    check_seconds("linger", linger, zero=True)
    if lease is not None:
        if check_seconds("lease", lease) <= seconds:
            msg = f"DeliveryWorker needs a lease longer than its timeout ({timeout!r}), not {lease!r}."
            raise ValueError(msg)
    check_seconds("retention", retention)
    _check_rate("cpu_share", cpu_share, "a share of one core from 0 (excluded) to 1", 1.0)
    check_flag("sender_process", sender_process)
    _check_rate("busy_rate", busy_rate, "a number of deliveries a second above 0", math.inf)


def _check_rate(name: str, value: object, meaning: str, most: float) -> None:
    """Refuse ``value`` unless it is None or a number above 0, at most ``most``."""
    if value is None:
        return
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        msg = f"{name} must be {meaning}, or None; not {value!r}."
        raise TypeError(msg)
    if not 0 < value <= most:
        msg = f"{name} must be {meaning}, or None; not {value!r}."
        raise ValueError(msg)

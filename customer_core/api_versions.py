"""What a well-formed Stripe API version is: one rule for the ``Stripe-Version`` header
(``customer_core.http``) and a webhook endpoint's ``api_version`` param."""

from __future__ import annotations

import functools
import re
from datetime import date

__all__ = ["well_formed_api_version"]

_VERSION = re.compile(r"([0-9]{4})-([0-9]{2})-([0-9]{2})(?:\.[a-z]+)?")
"""A release date, then since 2024 the release's name (``2025-03-31.basil``)."""
_BETA_FLAGS = re.compile(r"(?:; ?[a-z0-9_]+=v[0-9]+)*")
"""Beta flags as the SDKs append them to the header (``; feature_beta=v1``)."""


@functools.lru_cache(maxsize=64)
def well_formed_api_version(version: str, *, beta_flags: bool = False) -> bool:
    """Whether ``version`` is a Stripe API version: a real calendar date ``YYYY-MM-DD``,
    optionally a release name (``.endive``), and with ``beta_flags`` (the header) optionally
    beta flags. Any such version is accepted, also one newer than this library's: the SDKs
    pin their own. Cached: a client sends the same version with every request."""
    match = _VERSION.match(version)
    if match is None:
        return False
    rest = version[match.end() :]
    if rest and not (beta_flags and _BETA_FLAGS.fullmatch(rest)):
        return False
    try:
        date(*map(int, match.groups()))
    except ValueError:
        return False
    return True

"""Stripe's webhook signature: ``Stripe-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256>``.

The HMAC is keyed with the endpoint's secret (``whsec_...``, used as it is) over
``"<t>.<raw body>"``, exactly what ``stripe.Webhook.construct_event(payload, header,
secret)`` checks (it also refuses a ``t`` more than 300 seconds old by default). The
functions live in customer_core.events.sender, whose helper process signs bodies too
(it imports nothing of this package).

>>> signature_header(b'{"id": "evt_1"}', "whsec_test", 1700000000)
't=1700000000,v1=a0c091828640f0b68061abc7c03981ad1100ff7160c5dba6b656239494a2b537'
"""

from __future__ import annotations

from .sender import compute_signature, signature_header

__all__ = ["compute_signature", "signature_header"]

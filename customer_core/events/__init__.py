"""Events: customer changes recorded with the change, listed like Stripe's, and pushed to
in-process subscribers.

``CustomerService`` records a ``customer.created``, ``customer.updated`` or
``customer.deleted`` event in the transaction of each change (``events=False`` turns
this off); ``svc.events.list(...)`` / ``svc.events.retrieve(id)`` read them back and
``svc.subscribe(callback, types=...)`` calls back after each commit. Events go to webhook
endpoints through an outbox written with them (``svc.webhooks``; the worker that sends
them is ``customer_core.events.delivery``).
"""

from .diff import previous_attributes
from .models import EVENT_TYPES, Event, EventData, EventListPage, EventRequest, matching_types
from .outbox import DeliveryAttempt, DeliveryAttemptList, RetryPolicy, Webhooks
from .recording import DEFAULT_RETENTION, EventLog, RequestInfo
from .subscribers import EventBus, Subscriber

__all__ = [
    "DEFAULT_RETENTION",
    "EVENT_TYPES",
    "DeliveryAttempt",
    "DeliveryAttemptList",
    "Event",
    "EventBus",
    "EventData",
    "EventListPage",
    "EventLog",
    "EventRequest",
    "RequestInfo",
    "RetryPolicy",
    "Subscriber",
    "Webhooks",
    "matching_types",
    "previous_attributes",
]

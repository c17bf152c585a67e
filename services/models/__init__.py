"""The services app's models, one module per subject; each is imported here so Django finds it."""

from services.models.bookings import Booking, WalkthroughOutcome, WalkthroughSlot
from services.models.fees import BillableService, Charge, Fee
from services.models.prospects import Prospect, Service, Stage
from services.models.requests import (
    HelpTopic,
    RequestKind,
    RequestReply,
    RequestStatus,
    ServiceRequest,
)
from services.models.webinars import Registration, WebinarSession

__all__ = [
    "BillableService",
    "Booking",
    "Charge",
    "Fee",
    "HelpTopic",
    "Prospect",
    "Registration",
    "RequestKind",
    "RequestReply",
    "RequestStatus",
    "Service",
    "ServiceRequest",
    "Stage",
    "WalkthroughOutcome",
    "WalkthroughSlot",
    "WebinarSession",
]

"""The services app's models, one module per subject; each is imported here so Django finds it."""

from services.models.alerts import ComplianceAlert
from services.models.bookings import Booking, WalkthroughOutcome, WalkthroughSlot
from services.models.corrections import Correction
from services.models.documents import ComplianceDocument, DocumentType, RetentionPeriod
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
    "ComplianceAlert",
    "ComplianceDocument",
    "Correction",
    "DocumentType",
    "Fee",
    "HelpTopic",
    "Prospect",
    "Registration",
    "RequestKind",
    "RequestReply",
    "RequestStatus",
    "RetentionPeriod",
    "Service",
    "ServiceRequest",
    "Stage",
    "WalkthroughOutcome",
    "WalkthroughSlot",
    "WebinarSession",
]

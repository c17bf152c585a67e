"""The services app's models, one module per subject; each is imported here so Django finds it."""

from services.models.alerts import ComplianceAlert
from services.models.bookings import Booking, WalkthroughOutcome, WalkthroughSlot
from services.models.corrections import Correction
from services.models.documents import ComplianceDocument, DocumentType, RetentionPeriod
from services.models.fees import BillableService, Charge, Fee
from services.models.prospects import Prospect, Service, Stage
from services.models.readiness import ReadinessCheck, ReadinessGap, ReadinessQuestion
from services.models.requests import (
    HelpTopic,
    RequestKind,
    RequestReply,
    RequestStatus,
    ServiceRequest,
)
from services.models.training import Course, TrainingCompletion, TrainingSession
from services.models.webinars import Registration, WebinarSession

__all__ = [
    "BillableService",
    "Booking",
    "Charge",
    "ComplianceAlert",
    "ComplianceDocument",
    "Correction",
    "Course",
    "DocumentType",
    "Fee",
    "HelpTopic",
    "Prospect",
    "ReadinessCheck",
    "ReadinessGap",
    "ReadinessQuestion",
    "Registration",
    "RequestKind",
    "RequestReply",
    "RequestStatus",
    "RetentionPeriod",
    "Service",
    "ServiceRequest",
    "Stage",
    "TrainingCompletion",
    "TrainingSession",
    "WalkthroughOutcome",
    "WalkthroughSlot",
    "WebinarSession",
]

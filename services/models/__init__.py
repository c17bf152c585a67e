"""The services app's models, one module per subject; each is imported here so Django finds it."""

from services.models.alerts import ComplianceAlert
from services.models.corrections import Correction
from services.models.documents import ComplianceDocument, DocumentType, RetentionPeriod

__all__ = [
    "ComplianceAlert",
    "ComplianceDocument",
    "Correction",
    "DocumentType",
    "RetentionPeriod",
]

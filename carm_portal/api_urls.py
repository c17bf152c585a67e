"""The REST API, version 1: one router, each app registering its viewsets."""

from rest_framework.routers import DefaultRouter

from clients.api import ImporterViewSet, ProgramAccountViewSet
from clients.checklist_api import OnboardingStepViewSet, PortalUserViewSet
from clients.invitation_api import InvitationViewSet
from delegation.api import DelegationAlertViewSet, DelegationViewSet
from delegation.renewal_api import RenewalRequestViewSet
from payments.api import (
    BankAccountViewSet,
    FinancialSecurityViewSet,
    InterestRateViewSet,
    PaymentAlertViewSet,
    PaymentViewSet,
)
from services.api import BookingViewSet, OpenSlotViewSet, ServiceRequestViewSet
from services.compliance_api import (
    ComplianceDocumentViewSet,
    CorrectionViewSet,
    ReadinessCheckViewSet,
    TrainingCompletionViewSet,
)
from statements.api import BrokerEntryViewSet, ImportBatchViewSet, StatementViewSet
from statements.reconciliation_api import ReconciliationRunViewSet
from statements.reconciliation_item_api import ReconciliationItemViewSet

router = DefaultRouter()
router.register("importers", ImporterViewSet, basename="importer")
router.register("program-accounts", ProgramAccountViewSet, basename="program-account")
router.register("onboarding-steps", OnboardingStepViewSet, basename="onboarding-step")
router.register("portal-users", PortalUserViewSet, basename="portal-user")
router.register("invitations", InvitationViewSet, basename="invitation")
router.register("delegations", DelegationViewSet, basename="delegation")
router.register("renewal-requests", RenewalRequestViewSet, basename="renewal-request")
router.register("delegation-alerts", DelegationAlertViewSet, basename="delegation-alert")
router.register("statements", StatementViewSet, basename="statement")
router.register("broker-entries", BrokerEntryViewSet, basename="broker-entry")
router.register("import-batches", ImportBatchViewSet, basename="import-batch")
router.register("reconciliation-runs", ReconciliationRunViewSet, basename="reconciliation-run")
router.register("reconciliation-items", ReconciliationItemViewSet, basename="reconciliation-item")
router.register("payments", PaymentViewSet, basename="payment")
router.register("payment-alerts", PaymentAlertViewSet, basename="payment-alert")
router.register("financial-securities", FinancialSecurityViewSet, basename="financial-security")
router.register("interest-rates", InterestRateViewSet, basename="interest-rate")
router.register("bank-accounts", BankAccountViewSet, basename="bank-account")
router.register("service-requests", ServiceRequestViewSet, basename="service-request")
router.register("walkthrough-slots", OpenSlotViewSet, basename="walkthrough-slot")
router.register("bookings", BookingViewSet, basename="booking")
router.register("corrections", CorrectionViewSet, basename="correction")
router.register("compliance-documents", ComplianceDocumentViewSet, basename="compliance-document")
router.register("training-completions", TrainingCompletionViewSet, basename="training-completion")
router.register("readiness-checks", ReadinessCheckViewSet, basename="readiness-check")

urlpatterns = router.urls

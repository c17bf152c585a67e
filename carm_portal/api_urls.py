"""The REST API, version 1: one router, each app registering its viewsets."""

from rest_framework.routers import DefaultRouter

from clients.api import ImporterViewSet, ProgramAccountViewSet
from delegation.api import DelegationAlertViewSet, DelegationViewSet

router = DefaultRouter()
router.register("importers", ImporterViewSet, basename="importer")
router.register("program-accounts", ProgramAccountViewSet, basename="program-account")
router.register("delegations", DelegationViewSet, basename="delegation")
router.register("delegation-alerts", DelegationAlertViewSet, basename="delegation-alert")

urlpatterns = router.urls

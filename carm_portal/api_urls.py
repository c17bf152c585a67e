"""The REST API, version 1: one router, each app registering its viewsets."""

from rest_framework.routers import DefaultRouter

from clients.api import ImporterViewSet, ProgramAccountViewSet

router = DefaultRouter()
router.register("importers", ImporterViewSet, basename="importer")
router.register("program-accounts", ProgramAccountViewSet, basename="program-account")

urlpatterns = router.urls

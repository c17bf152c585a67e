"""The REST API, version 1: one router, each app registering its viewsets."""

from rest_framework.routers import DefaultRouter

router = DefaultRouter()

urlpatterns = router.urls

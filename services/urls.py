"""The broker's services: public pages (no login) and the staff and importer pages behind them."""

from django.urls import path  # noqa: F401  (the routes arrive with the pages)

app_name = "services"

urlpatterns: list = []

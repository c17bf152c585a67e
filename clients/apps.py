from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ClientsConfig(AppConfig):
    name = "clients"
    verbose_name = _("Clients")

    def ready(self) -> None:
        from clients import signals  # noqa: F401  (connects the checklist refresh)

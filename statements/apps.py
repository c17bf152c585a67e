from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class StatementsConfig(AppConfig):
    name = "statements"
    verbose_name = _("Statements")

    def ready(self) -> None:
        from statements import receivers  # noqa: F401 (connects the after-import reconciliation)

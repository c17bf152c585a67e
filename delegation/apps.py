from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class DelegationConfig(AppConfig):
    name = "delegation"
    verbose_name = _("Delegation")

    def ready(self) -> None:
        from delegation import signals  # noqa: F401  (step 7 of the checklist follows delegations)

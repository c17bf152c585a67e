from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class DelegationConfig(AppConfig):
    name = "delegation"
    verbose_name = _("Delegation")

    def ready(self) -> None:
        from clients.models import OnboardingStep
        from clients.onboarding import register_deriver
        from delegation import checklist, signals  # noqa: F401  (signals: step 7 follows delegations)

        register_deriver(
            OnboardingStep.Step.BROKER_DELEGATION,
            checklist.broker_delegation,
            prefetch=checklist.PREFETCH,
        )

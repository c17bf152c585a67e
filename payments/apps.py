from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PaymentsConfig(AppConfig):
    name = "payments"
    verbose_name = _("Payments")

    def ready(self) -> None:
        from clients.models import OnboardingStep
        from clients.onboarding import register_deriver
        from payments import checklist, signals  # noqa: F401  (signals: step 1 follows securities)

        register_deriver(
            OnboardingStep.Step.FINANCIAL_SECURITY,
            checklist.financial_security,
            prefetch=checklist.PREFETCH,
        )

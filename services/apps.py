from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ServicesConfig(AppConfig):
    name = "services"
    verbose_name = _("Services and compliance")

    def ready(self) -> None:
        # The compliance work observes the statements app (which never imports services), and
        # its daily task registers with Celery.
        from services import compliance_tasks  # noqa: F401
        from services.compliance import receivers  # noqa: F401

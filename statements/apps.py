from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class StatementsConfig(AppConfig):
    name = "statements"
    verbose_name = _("Statements")

    def ready(self) -> None:
        from statements import (
            receivers,  # noqa: F401 (connects the after-import reconciliation)
            tasks,
        )
        from statements.signals import reconciliations_queued, upload_queued

        upload_queued.connect(tasks.queue_import, dispatch_uid="queue_uploaded_import")
        reconciliations_queued.connect(
            tasks.send_queued_reconciliations, dispatch_uid="send_queued_reconciliations"
        )

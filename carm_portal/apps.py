from django.apps import AppConfig
from django.db.models.signals import pre_save


class CarmPortalConfig(AppConfig):
    name = "carm_portal"
    verbose_name = "carm-portal"

    def ready(self) -> None:
        from carm_portal import user_language  # noqa: F401  (connects the sign-in receiver)
        from carm_portal.api_tokens import revoke_on_credential_change
        from carm_portal.models import User

        pre_save.connect(revoke_on_credential_change, sender=User, dispatch_uid="api_tokens_revoke")

from django.apps import AppConfig
from django.db.models.signals import class_prepared, pre_save

from carm_portal.choice_labels import use_for

# Connected here, not in ready(): Django imports every app's config before any model module, and
# the receiver must see each model class as it is made (carm_portal/choice_labels.py says why).
class_prepared.connect(use_for, dispatch_uid="choice_labels")


class CarmPortalConfig(AppConfig):
    name = "carm_portal"
    verbose_name = "carm-portal"

    def ready(self) -> None:
        from carm_portal import user_language  # noqa: F401  (connects the sign-in receiver)
        from carm_portal.api_tokens import revoke_on_credential_change
        from carm_portal.models import User

        pre_save.connect(revoke_on_credential_change, sender=User, dispatch_uid="api_tokens_revoke")

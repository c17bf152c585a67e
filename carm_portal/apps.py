from django.apps import AppConfig


class CarmPortalConfig(AppConfig):
    name = "carm_portal"
    verbose_name = "carm-portal"

    def ready(self) -> None:
        from carm_portal import user_language  # noqa: F401  (connects the sign-in receiver)

from django.apps import AppConfig


class CarmPortalConfig(AppConfig):
    name = "carm_portal"
    verbose_name = "carm-portal"

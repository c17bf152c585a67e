"""carm-portal project package: settings, URLs, the Celery app and the custom User."""

from .celery import app as celery_app

__all__ = ("celery_app",)

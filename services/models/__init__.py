"""The services app's models, one module per subject; each is imported here so Django finds it."""

from services.models.prospects import Prospect, Service, Stage
from services.models.webinars import Registration, WebinarSession

__all__ = ["Prospect", "Registration", "Service", "Stage", "WebinarSession"]

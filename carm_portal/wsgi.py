"""WSGI entry point (gunicorn carm_portal.wsgi)."""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "carm_portal.settings")

application = get_wsgi_application()

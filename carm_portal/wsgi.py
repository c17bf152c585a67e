"""WSGI entry point (gunicorn carm_portal.wsgi).

Once Django and the URLconf (and so every view, form and serializer module) are loaded, the
objects they made (about 200,000) are moved out of the garbage collector's sight with ``gc.freeze()``: they live as long
as the process, and otherwise every full collection walks them all again, a pause of about
100 ms in whichever request triggers it (one in ninety under ``bench/load_pages.py``).
Objects made later, requests' included, are collected as usual.
"""

import gc
import os

from django.core.wsgi import get_wsgi_application
from django.urls import get_resolver

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "carm_portal.settings")

application = get_wsgi_application()
get_resolver().url_patterns  # noqa: B018 (imports the URLconf now: a broken view fails the start)

gc.collect()  # what loading left as garbage goes now, not frozen with the rest
gc.freeze()

"""Logging filters named in ``settings.LOGGING``.

A 403 is the portal answering as designed (someone followed a link their role does not open), yet
Django's request handler logs it with the ``PermissionDenied`` attached, so every refusal printed
a traceback, and in development printed it twice (Django's own console handler on the ``django``
logger, then the root handler it propagated to). ``ForbiddenInOneLine`` keeps the line
("Forbidden (Permission denied): /payments/worklist/") and drops the traceback; the ``django``
logger is given the root's single handler in settings, so each line is written once.
"""

from __future__ import annotations

import logging


class ForbiddenInOneLine(logging.Filter):
    """On ``django.request``: a 403's record keeps its message and loses its exception."""

    def filter(self, record: logging.LogRecord) -> bool:
        if getattr(record, "status_code", None) == 403:
            record.exc_info = None
            record.exc_text = None
        return True

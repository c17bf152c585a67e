"""A refused request (403) is an expected answer, not an error: it logs one line, no traceback.

Django's request handler logs every 403 with the exception attached (a traceback on the console),
and the exception also carried its traceback to the root logger's handler through propagation;
at the volume of a portfolio's people trying bookmarked links, the log was mostly tracebacks.
"""

from __future__ import annotations

import logging

import pytest
from django.urls import reverse

pytestmark = pytest.mark.django_db


def test_a_403_logs_one_line_without_a_traceback(personas, client_for, caplog):
    client = client_for(personas.bam_a)
    caplog.set_level(logging.DEBUG)

    response = client.get(reverse("payments:worklist"))

    assert response.status_code == 403
    forbidden = [r for r in caplog.records if r.levelno >= logging.WARNING]
    assert len(forbidden) == 1, [(r.name, r.getMessage()) for r in forbidden]
    assert forbidden[0].exc_info is None and forbidden[0].exc_text is None
    assert "Forbidden" in forbidden[0].getMessage()
    assert reverse("payments:worklist") in forbidden[0].getMessage()


def handlers_writing(logger_name: str, record: logging.LogRecord) -> list[logging.Handler]:
    """The handlers (the app's, not pytest's) that would write ``record`` logged on ``logger_name``."""
    found: list[logging.Handler] = []
    logger: logging.Logger | None = logging.getLogger(logger_name)
    while logger is not None:
        for handler in logger.handlers:
            if type(handler).__module__.startswith("_pytest"):
                continue
            if record.levelno >= handler.level and handler.filter(record):
                found.append(handler)
        if not logger.propagate:
            break
        logger = logger.parent
    return found


@pytest.mark.parametrize("debug", [True, False])
def test_a_request_warning_is_written_once(settings, debug):
    settings.DEBUG = debug
    record = logging.LogRecord(
        "django.request", logging.WARNING, __file__, 1, "Forbidden: %s", ("/x/",), None
    )
    assert len(handlers_writing("django.request", record)) == 1

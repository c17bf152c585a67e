"""``|date`` in every template: Django's filter, with ``"Y-m-d"`` on a plain date written by
``isoformat``. Each answer is compared with Django's own filter, in both languages."""

from __future__ import annotations

import datetime as dt

import pytest
from django.template import Context, Template
from django.template.defaultfilters import date as django_date
from django.utils import timezone, translation

from carm_portal.templatetags import formatting

DAYS = [dt.date(2024, 1, 1) + dt.timedelta(days=n) for n in range(366)] + [
    dt.date(1, 1, 1),
    dt.date(999, 12, 31),
    dt.date(9999, 12, 31),
]


@pytest.mark.parametrize("language", ["en", "fr"])
def test_iso_days_are_djangos_text(language):
    with translation.override(language):
        for day in DAYS:
            assert formatting.date(day, "Y-m-d") == django_date(day, "Y-m-d"), day


@pytest.mark.parametrize(
    ("value", "arg"),
    [
        (dt.date(2026, 12, 5), None),
        (dt.date(2026, 12, 5), "F Y"),
        (dt.date(2026, 12, 5), "Y-m"),
        (dt.datetime(2026, 12, 5, 23, 30, tzinfo=dt.UTC), "Y-m-d"),
        (None, "Y-m-d"),
        ("", "Y-m-d"),
        ("2026-12-05", "Y-m-d"),
    ],
)
def test_everything_else_is_djangos(value, arg):
    assert formatting.date(value, arg) == django_date(value, arg)


def test_templates_use_it_and_aware_times_are_local_first(settings):
    template = Template('{{ day|date:"Y-m-d" }} {{ when|date:"Y-m-d" }}')
    assert template.nodelist[0].filter_expression.filters[0][0] is formatting.date
    # 03:30 UTC on 6 December is still 5 December in Toronto: the local day, as Django's gives.
    when = dt.datetime(2026, 12, 6, 3, 30, tzinfo=dt.UTC)
    with timezone.override("America/Toronto"):
        html = template.render(Context({"day": dt.date(2026, 12, 5), "when": when}))
    assert html == "2026-12-05 2026-12-05"

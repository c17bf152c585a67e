"""The checklist bar (``{% step_bar %}``): remembered per process by statuses, size and language,
so the same statuses in another language or size never get the first one's HTML."""

from __future__ import annotations

import re

from django.utils import translation

from clients.models import OnboardingStep
from clients.templatetags.carm_ui import _step_bar_html, step_bar

Status = OnboardingStep.Status


def rows(**statuses: str) -> list[OnboardingStep]:
    return [OnboardingStep(step=int(k[1:]), status=v) for k, v in statuses.items()]


def test_the_bar_says_what_the_rows_say():
    html = step_bar(rows(s1=Status.DONE, s2=Status.DONE, s4=Status.BLOCKED))
    segments = re.findall(r"stepbar__seg--(\w+)", html)
    assert segments == ["done", "done", "not_started", "blocked"] + ["not_started"] * 3
    assert 'aria-label="2 of 7 steps done, 1 blocked"' in html
    assert ">2/7<" in html


def test_the_order_of_the_rows_does_not_matter():
    forward = rows(s1=Status.DONE, s3=Status.IN_PROGRESS)
    assert step_bar(forward) == step_bar(list(reversed(forward)))


def test_each_language_and_size_has_its_own_html():
    _step_bar_html.cache_clear()
    same = rows(s1=Status.DONE)
    with translation.override("en"):
        english = step_bar(same)
        large = step_bar(same, "large")
    with translation.override("fr"):
        french = step_bar(same)
    assert "1 of 7 steps done" in english and "stepbar--large" not in english
    assert "stepbar--large" in large
    assert "1 étape sur 7" in french
    assert _step_bar_html.cache_info().currsize == 3
    with translation.override("en"):
        assert step_bar(same) == english
    assert _step_bar_html.cache_info().hits == 1

"""Words built once per language: the active language's answer, built once for it, and built
again after a change of settings (as Django forgets its own translations)."""

from __future__ import annotations

from django.test import override_settings
from django.utils import translation
from django.utils.translation import gettext

from carm_portal.per_language import per_language


def test_each_language_gets_its_own_words_built_once():
    built: list[str | None] = []

    @per_language
    def words() -> str:
        built.append(translation.get_language())
        return gettext("Status")

    for language in ("en", "fr", "en", "fr", "fr"):
        with translation.override(language):
            assert words() == gettext("Status")  # Django's answer in that language
    assert built == ["en", "fr"]
    with translation.override("fr"):
        assert words() != "Status"  # the French catalogue is really in play


def test_new_settings_build_the_words_again():
    built: list[str | None] = []

    @per_language
    def words() -> int:
        built.append(translation.get_language())
        return len(built)

    with translation.override("en"):
        first = words()
        with override_settings(LANGUAGE_CODE="en"):  # any settings change
            assert words() == first + 1
    assert built == ["en", "en"]

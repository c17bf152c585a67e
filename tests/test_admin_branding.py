"""The Django admin says which site it is, and names every model's plural correctly (Django adds
an "s": "Alert deliverys")."""

from __future__ import annotations


def test_the_admin_is_branded_and_every_plural_is_right():
    import re

    from django.apps import apps
    from django.contrib import admin

    assert admin.site.site_header == admin.site.site_title == "carm-portal"
    wrong = []
    for model in apps.get_models():
        meta = model._meta
        if meta.app_label not in ("carm_portal", "clients", "delegation", "statements", "payments"):
            continue
        name, plural = str(meta.verbose_name), str(meta.verbose_name_plural)
        if name == model.__name__:  # simple-history's many-to-many record: not in the admin
            continue
        if plural == name + "s" and re.search(r"([^aeiou]y|s|x|z|ch|sh)$", name):
            wrong.append((model.__name__, plural))
    assert not wrong, f"Django's default plural is wrong for: {wrong}"

"""Form widgets rendered through Jinja2, falling back to the template engine.

Django's widget templates exist in both flavours; Jinja2 renders them at a fraction of the
template engine's CPU (the list pages' filter forms were a tenth of their server time under
load, ``bench/load_pages.py``). Widgets that ship only the template engine's flavour (the Django
admin's, and other packages') are rendered by the template engine as before.

Our own Jinja2 widget templates (``carm_portal/jinja2/django/forms/...``) come before Django's:
``select.html`` writes its options inline rather than including one template per option, the
same HTML at about half the cost.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import django.forms
from django.forms.renderers import BaseRenderer, DjangoTemplates, Jinja2
from django.template.exceptions import TemplateDoesNotExist
from django.utils.functional import cached_property

OURS = Path(__file__).resolve().parent / "jinja2"
DJANGOS = Path(django.forms.__file__).resolve().parent / "jinja2"


class OursFirstJinja2(Jinja2):
    """Django's Jinja2 widget renderer with this project's widget templates looked up first."""

    @cached_property
    def engine(self) -> Any:
        return self.backend(
            {"APP_DIRS": False, "DIRS": [OURS, DJANGOS], "NAME": "djangoforms", "OPTIONS": {}}
        )


class JinjaFirstRenderer(BaseRenderer):
    """Each widget or form template from Jinja2 when it has one, else from the template engine."""

    def __init__(self) -> None:
        self.jinja = OursFirstJinja2()
        self.templates = DjangoTemplates()

    def get_template(self, template_name: str) -> Any:
        try:
            return self.jinja.get_template(template_name)
        except TemplateDoesNotExist:
            return self.templates.get_template(template_name)

"""Form widgets rendered through Jinja2, falling back to the template engine.

Django's widget templates exist in both flavours; Jinja2 renders them at a fraction of the
template engine's CPU (the list pages' filter forms were a tenth of their server time under
load, ``bench/load_pages.py``). Widgets that ship only the template engine's flavour (the Django
admin's, and other packages') are rendered by the template engine as before.
"""

from __future__ import annotations

from typing import Any

from django.forms.renderers import BaseRenderer, DjangoTemplates, Jinja2
from django.template.exceptions import TemplateDoesNotExist


class JinjaFirstRenderer(BaseRenderer):
    """Each widget or form template from Jinja2 when it has one, else from the template engine."""

    def __init__(self) -> None:
        self.jinja = Jinja2()
        self.templates = DjangoTemplates()

    def get_template(self, template_name: str) -> Any:
        try:
            return self.jinja.get_template(template_name)
        except TemplateDoesNotExist:
            return self.templates.get_template(template_name)

"""``{% url %}`` through ``carm_portal.reversing``: Django's tag, its parsing and its output,
with the reversed URLs remembered per process (a list page reverses one or two per row).

Registered in ``TEMPLATES["OPTIONS"]["builtins"]`` after Django's own tags, so it replaces
``{% url %}`` in every template of the project, the admin's and allauth's included.
"""

from __future__ import annotations

from typing import Any

from django import template
from django.template.base import Parser, Token
from django.template.context import Context
from django.template.defaulttags import URLNode
from django.template.defaulttags import url as django_url
from django.urls import NoReverseMatch
from django.utils.html import conditional_escape

from carm_portal.reversing import reverse

register = template.Library()


class RememberedURLNode(URLNode):
    def render(self, context: Context) -> str:
        args = [arg.resolve(context) for arg in self.args]
        kwargs = {k: v.resolve(context) for k, v in self.kwargs.items()}
        view_name = self.view_name.resolve(context)
        request: Any = getattr(context, "request", None)
        if hasattr(request, "current_app"):  # as Django's tag: the request's, else its namespace
            current_app = request.current_app
        else:
            current_app = getattr(getattr(request, "resolver_match", None), "namespace", None)
        url = ""
        try:
            url = reverse(view_name, args=args, kwargs=kwargs, current_app=current_app)
        except NoReverseMatch:
            if self.asvar is None:
                raise
        if self.asvar:
            context[self.asvar] = url
            return ""
        return conditional_escape(url) if context.autoescape else url


@register.tag
def url(parser: Parser, token: Token) -> RememberedURLNode:
    """Parsed by Django's tag (same syntax and errors), rendered by ``RememberedURLNode``."""
    node = django_url(parser, token)
    return RememberedURLNode(node.view_name, node.args, node.kwargs, node.asvar)

"""JSON request bodies nested deeper than any of our documents: a 400, never a 500.

Python's JSON decoder recurses once per level of nesting; a body of a few thousand ``[`` raised
``RecursionError``, which DRF's ``JSONParser`` does not catch (it catches ``ValueError``), so an
anonymous request could produce a server error. Our deepest document is three levels deep (a
payment with its allocations), so ``API_MAX_JSON_DEPTH`` (64 by default) refuses nothing real.

The depth is counted before decoding, in one pass that skips the contents of strings, so the
decoder never sees a body it cannot handle.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from io import BytesIO
from typing import IO, Any

from django.conf import settings
from django.utils.translation import gettext as _
from rest_framework.exceptions import ParseError
from rest_framework.parsers import JSONParser

DEFAULT_MAX_DEPTH = 64

# A JSON string (with its escapes) or one bracket: strings are matched whole so that a bracket
# inside one is never counted.
_TOKEN = re.compile(rb'"(?:[^"\\]|\\.)*"|[\[\]{}]', re.DOTALL)
_OPENERS = frozenset(b"[{")


def json_depth(body: bytes, *, stop_above: int | None = None) -> int:
    """The deepest nesting of arrays and objects in ``body`` (0 for a scalar).

    With ``stop_above``, returns as soon as the depth passes it, so a hostile body costs no more
    than the first levels past the limit.
    """
    depth = deepest = 0
    for match in _TOKEN.finditer(body):
        token = match.group()
        if len(token) != 1:
            continue  # a string
        if token[0] in _OPENERS:
            depth += 1
            if depth > deepest:
                deepest = depth
                if stop_above is not None and deepest > stop_above:
                    return deepest
        else:
            depth -= 1
    return deepest


def max_depth() -> int:
    return int(getattr(settings, "API_MAX_JSON_DEPTH", DEFAULT_MAX_DEPTH))


class DepthLimitedJSONParser(JSONParser):
    """DRF's JSON parser, refusing (400) a body nested deeper than ``API_MAX_JSON_DEPTH``."""

    def parse(
        self,
        stream: IO[Any] | None,
        media_type: str | None = None,
        parser_context: Mapping[str, Any] | None = None,
    ) -> Any:
        body = stream.read() if stream is not None else b""
        limit = max_depth()
        if json_depth(body, stop_above=limit) > limit:
            raise ParseError(
                _("JSON parse error - nested deeper than %(limit)d levels.") % {"limit": limit}
            )
        try:
            return super().parse(BytesIO(body), media_type, parser_context)
        except RecursionError:  # a limit set above what the decoder can take
            raise ParseError(_("JSON parse error - nested too deeply.")) from None

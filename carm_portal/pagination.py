"""Paginators that spare the database a ``COUNT(*)`` whose answer is already known.

``CountedPaginator``: a page that has already counted the rows it lists (with a total read in the
same pass); asking the database again would read them twice. ``ShortFirstPagePagination`` (the
API): a first page shorter than a page holds every row, so its length is the count."""

from __future__ import annotations

from typing import Any

from django.core.paginator import Page, Paginator
from django.utils.functional import cached_property
from rest_framework.pagination import PageNumberPagination


class CountedPaginator(Paginator):
    """``Paginator`` over ``object_list`` whose length is ``count``, already known."""

    def __init__(self, object_list: Any, per_page: int, *, count: int, **kwargs: Any) -> None:
        super().__init__(object_list, per_page, **kwargs)
        self._known_count = count

    @cached_property
    def count(self) -> int:
        return self._known_count


class ShortFirstPagePaginator(Paginator):
    """``Paginator`` that reads the first page before counting, and does not count when that page
    is not full: it then holds every row, and its length is the count.

    A list that fits on one page (most of an importer's, or a broker's short lists) answers with
    one query instead of two, a ``COUNT(*)`` compiled and run for a number already in hand (for
    the statements, a query with three subqueries to compile). Any other page, or a full first
    one, counts as Django does. Same page, same count, same errors (a page past the last is
    counted first, as before).
    """

    def page(self, number: Any) -> Page:
        if number not in (1, "1") or self.orphans or "count" in self.__dict__:
            return super().page(number)
        rows = list(self.object_list[: self.per_page])
        if len(rows) < self.per_page:
            self.__dict__["count"] = len(rows)  # the cached_property, known without a query
        return self._get_page(rows, self.validate_number(number), self)  # type: ignore[attr-defined]  # Django's hook, not in django-stubs


class ShortFirstPagePagination(PageNumberPagination):
    """DRF's page-number pagination (same parameters, answers and schema) over
    ``ShortFirstPagePaginator``."""

    django_paginator_class = ShortFirstPagePaginator

"""A paginator told its count: when a page has already counted the rows it lists (with a total
read in the same pass), asking the database again would read them twice."""

from __future__ import annotations

from typing import Any

from django.core.paginator import Paginator
from django.utils.functional import cached_property


class CountedPaginator(Paginator):
    """``Paginator`` over ``object_list`` whose length is ``count``, already known."""

    def __init__(self, object_list: Any, per_page: int, *, count: int, **kwargs: Any) -> None:
        super().__init__(object_list, per_page, **kwargs)
        self._known_count = count

    @cached_property
    def count(self) -> int:
        return self._known_count

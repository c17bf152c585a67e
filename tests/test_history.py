"""carm_portal.history: the records a page's history reads."""

from __future__ import annotations

import pytest

from carm_portal.history import records_of
from clients.models import Importer, ProgramAccount
from tests.factories import ImporterFactory, ProgramAccountFactory

pytestmark = pytest.mark.django_db


def test_records_of_a_model_are_its_simple_history_records():
    importer = ImporterFactory(legal_name="Before Ltd.")
    importer.legal_name = "After Ltd."
    importer.save()
    ProgramAccountFactory(importer=importer)

    for model in (Importer, ProgramAccount):
        mine = records_of(model).order_by("history_id")
        theirs = model.history.order_by("history_id")  # type: ignore[attr-defined]
        assert mine.model is theirs.model
        assert list(mine) == list(theirs)
    assert [r.legal_name for r in records_of(Importer).filter(id=importer.pk)] == [
        "After Ltd.",
        "Before Ltd.",
    ]

"""Pages a French-speaking broker or importer opens, checked for the English that used to remain:
the role in the header, the payment worklist's tiles, the checklist steps in the importer filter,
an import's error messages, the history's reasons and checklist summaries, and plurals."""

from __future__ import annotations

import datetime as dt
import re
from html import unescape

import pytest
from django.conf import settings
from django.urls import reverse
from django.utils import translation

from carm_portal import stored_english
from clients.models import OnboardingStep
from statements.models import ImportBatch

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def back_to_english():
    yield
    translation.activate(settings.LANGUAGE_CODE)


def french_page(client, url: str) -> str:
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "fr"
    response = client.get(url)
    assert response.status_code == 200
    return " ".join(unescape(re.sub(r"<[^>]+>", " ", response.content.decode())).split())


def test_the_header_names_the_broker_role_in_french(personas, client_for):
    page = french_page(client_for(personas.broker_admin), reverse("payments:worklist"))
    assert "Administrateur du courtier" in page
    assert "broker admin" not in page.lower()


def test_the_payment_worklist_tiles_are_in_french(personas, client_for):
    page = french_page(client_for(personas.broker_finance), reverse("payments:worklist"))
    assert "Dû cette semaine" in page
    for english in ("Due this week", "Security insufficient or expiring"):
        assert english not in page


def test_the_importer_filter_names_the_seven_steps_in_french(personas, client_for):
    page = french_page(client_for(personas.broker_agent), reverse("clients:importer_list"))
    with translation.override("fr"):
        for _number, label in OnboardingStep.Step.choices:
            assert str(label) in page
    with translation.override("en"):
        english = [str(label) for _n, label in OnboardingStep.Step.choices]
    assert not [label for label in english if label in page]


def test_an_imports_error_messages_are_shown_in_french(personas, client_for):
    batch = ImportBatch.objects.create(
        kind=ImportBatch.Kind.STATEMENT,
        file_name="soa.csv",
        sha256="0" * 64,
        status=ImportBatch.Status.REFUSED,
        uploaded_by=personas.broker_finance,
        message="Paid in full",
        error_count=2,
        errors=[
            {"row": 3, "column": "amount", "value": "1,431.03", "reason": (
                "No thousands separator or decimal comma: write 1431.03, not 1,431.03."
            )},
            {"row": 4, "column": "transaction_number", "value": "123", "reason": (
                "A transaction number has 14 digits; this one has 3."
            )},
        ],
    )  # fmt: skip
    page = french_page(
        client_for(personas.broker_finance), reverse("statements:batch_detail", args=[batch.pk])
    )
    assert "Un numéro de transaction a 14 chiffres; celui-ci en a 3." in page
    assert "No thousands separator" not in page
    assert "Payé en entier" in page


def test_stored_english_sentences_are_translated_with_their_arguments():
    with translation.override("fr"):
        assert stored_english.translate("Paid in full") == "Payé en entier"
        assert stored_english.translate("Imported from batch #12") == "Importé du lot no 12"
        assert stored_english.translate("1 of 7 steps done") == "1 étape sur 7 terminée"
        assert stored_english.translate("3 of 7 steps done") == "3 étapes sur 7 terminées"
        assert stored_english.translate("Jane's own note") == "Jane's own note"
    with translation.override("en"):
        assert stored_english.translate("Paid in full") == "Paid in full"


@pytest.mark.parametrize(("done", "french"), [(1, "1 étape sur 7"), (3, "3 étapes sur 7")])
def test_steps_done_is_a_plural(done, french):
    from clients.templatetags.carm_ui import step_bar_context

    rows = [
        OnboardingStep(step=number, status=OnboardingStep.Status.DONE)
        for number in range(1, done + 1)
    ]
    with translation.override("fr"):
        assert step_bar_context(rows)["summary"].startswith(french)


def test_the_history_shows_paid_in_full_in_french(personas, client_for, time_machine):
    from tests.factories import StatementFactory

    time_machine.move_to(dt.datetime(2026, 11, 23, 15, tzinfo=dt.UTC))
    account = personas.importer_a.program_accounts.get()
    statement = StatementFactory(program_account=account)
    statement._change_reason = "Paid in full"
    statement.status = "paid"
    statement.save()
    page = french_page(
        client_for(personas.broker_finance), reverse("statements:detail", args=[statement.pk])
    )
    assert "Payé en entier" in page
    assert "Paid in full" not in page


def test_the_error_csv_gives_the_reasons_in_the_downloaders_language(personas, client_for):
    batch = ImportBatch.objects.create(
        kind=ImportBatch.Kind.STATEMENT,
        file_name="soa.csv",
        sha256="1" * 64,
        status=ImportBatch.Status.REFUSED,
        uploaded_by=personas.broker_finance,
        error_count=1,
        errors=[{"row": 4, "column": "amount", "value": "12.345", "reason": (
            "At most 2 decimal places (cents)."
        )}],
    )  # fmt: skip
    client = client_for(personas.broker_finance)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "fr"
    csv = client.get(reverse("statements:batch_errors", args=[batch.pk])).content.decode()
    assert "Au plus 2 décimales (cents)." in csv
    assert "At most 2 decimal places" not in csv


def test_the_history_shows_checklist_summaries_in_french(personas):
    from clients.views import importer_history
    from tests.factories import PortalUserFactory

    importer = personas.importer_a
    PortalUserFactory(importer=importer, profile_created=True)
    PortalUserFactory(importer=importer, profile_created=False)  # the step's summary changes
    with translation.override("fr"):
        entries = importer_history(importer, include_notes=True)
    shown = " ".join(f"{before} {after}" for e in entries for _name, before, after in e.changes)
    assert "utilisateur du portail sur 2 a un profil PC-GCRA" in shown
    assert "portal users has a CCP profile" not in shown

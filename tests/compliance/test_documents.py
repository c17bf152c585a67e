"""Compliance documents: content checks, retention, legal hold, purge, access-checked downloads."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from services.compliance.checks import run_compliance_checks
from services.compliance.documents import (
    DocumentError,
    checked_content,
    expired,
    file_document,
    purge_documents,
    retain_until,
)
from services.models import ComplianceAlert, ComplianceDocument, RetentionPeriod
from tests.factories import StatementFactory, UserFactory
from tests.kit import persona_cases

pytestmark = pytest.mark.django_db

PDF = b"%PDF-1.4\n1 0 obj << >> endobj\ntrailer << >>\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path / "media")
    return tmp_path / "media"


def test_retention_runs_six_years_after_the_end_of_the_record_year_per_type():
    assert retain_until(document_type="cad", record_date=dt.date(2020, 3, 1)) == dt.date(
        2026, 12, 31
    )
    RetentionPeriod.objects.create(document_type="correspondence", years=2)
    assert retain_until(document_type="correspondence", record_date=dt.date(2020, 3, 1)) == dt.date(
        2022, 12, 31
    )


@pytest.mark.parametrize(
    ("name", "data", "refused"),
    [
        ("invoice.pdf", PDF, None),
        ("scan.png", PNG, None),
        ("notice.csv", b"account,amount\n123456789RM0001,10.00\n", None),
        ("invoice.pdf", PNG, "The file's content is not a pdf file."),
        ("scan.png", PDF, "The file's content is not a png file."),
        ("notice.csv", PDF, "The file's content is not a csv file."),
        ("notice.csv", b"a,b\n\x00\x01", "The file's content is not a csv file."),
        ("notice.txt", b"caf\xe9", "A text file must be UTF-8."),
        ("run.exe", b"MZ\x90\x00", "Files ending in “.exe” are not kept"),
        ("empty.pdf", b"", "The file is empty."),
    ],
)
def test_content_must_match_the_extension(name, data, refused):
    if refused is None:
        assert checked_content(name=name, data=data)
    else:
        with pytest.raises(DocumentError) as error:
            checked_content(name=name, data=data)
        assert str(error.value).startswith(refused)


def test_a_file_over_the_size_limit_is_refused(settings):
    settings.COMPLIANCE_DOCUMENT_MAX_BYTES = 100
    with pytest.raises(DocumentError) as error:
        checked_content(name="big.pdf", data=PDF + b" " * 100)
    assert str(error.value) == f"The file is {len(PDF) + 100} bytes; the limit is 100."


def _file(importer, *, record_date=dt.date(2019, 5, 1), name="invoice.pdf", data=PDF, **kw):
    return file_document(
        importer=importer,
        document_type=kw.pop("document_type", "commercial_invoice"),
        name=name,
        data=data,
        record_date=record_date,
        by=None,
        **kw,
    )


def test_a_filed_document_is_stored_under_a_random_name_with_its_hash(personas, media):
    document = _file(personas.importer_a)

    assert document.original_name == "invoice.pdf"
    assert document.file.name.startswith(f"compliance/{personas.importer_a.pk}/")
    assert "invoice" not in document.file.name
    assert document.retain_until == dt.date(2025, 12, 31)
    assert len(document.sha256) == 64
    assert (media / document.file.name).read_bytes() == PDF


def test_a_statement_of_another_importer_cannot_be_linked(personas):
    other = StatementFactory(program_account=personas.importer_b.program_accounts.get())
    with pytest.raises(DocumentError):
        _file(personas.importer_a, statement=other)


def test_a_document_on_legal_hold_is_not_purged(personas, media):
    held = _file(personas.importer_a)
    ComplianceDocument.objects.filter(pk=held.pk).update(legal_hold=True, legal_hold_reason="audit")
    gone = _file(personas.importer_a, name="other.pdf")
    kept = _file(personas.importer_a, name="recent.pdf", record_date=dt.date(2024, 1, 1))
    admin = UserFactory(roles=["broker admin"])
    today = dt.date(2026, 12, 1)

    assert set(expired(today=today)) == {gone}
    purged, refused = purge_documents(
        ComplianceDocument.objects.order_by("pk"), by=admin, today=today
    )

    assert (purged, refused) == (1, 2)
    held.refresh_from_db()
    gone.refresh_from_db()
    kept.refresh_from_db()
    assert (media / held.file.name).exists() and (media / kept.file.name).exists()
    assert (gone.file.name, gone.purged_by, gone.purged_at is not None) == ("", admin, True)
    assert gone.history.first().history_user == admin


def test_the_daily_check_lists_expired_documents_once(personas):
    _file(personas.importer_a)
    _file(personas.importer_a, name="b.pdf")

    first = run_compliance_checks(today=dt.date(2026, 3, 1))
    second = run_compliance_checks(today=dt.date(2026, 3, 1))

    alert = ComplianceAlert.objects.get(kind="retention_expired")
    assert alert.message == "2 documents are past their retention date and may be purged."
    assert (first.raised, second.raised) == (1, 0)
    assert ComplianceDocument.objects.filter(purged_at__isnull=False).count() == 0


DOWNLOAD = [
    ("own", (200, 200, 200, 200, 200, 403, 404)),
]


@pytest.mark.parametrize(("case", "persona", "expected"), persona_cases(DOWNLOAD))
def test_downloads_are_access_checked(personas, client_for, case, persona, expected):
    document = _file(personas.importer_a)

    response = client_for(personas.all()[persona]).get(
        reverse("compliance:document_download", args=[document.pk])
    )

    assert response.status_code == expected
    if expected == 200:
        assert b"".join(response.streaming_content) == PDF
        assert response["Content-Disposition"] == 'attachment; filename="invoice.pdf"'
        assert response["X-Content-Type-Options"] == "nosniff"


def test_importer_people_never_download_another_importers_documents(personas, client_for):
    theirs = [_file(personas.importer_b, name=f"b{n}.pdf") for n in range(3)]
    client = client_for(personas.bam_a)

    for pk in [d.pk for d in theirs] + [max(d.pk for d in theirs) + 1, "0"]:
        response = client.get(f"/compliance/documents/{pk}/download/")
        assert response.status_code == 404
    listing = client.get(reverse("compliance:documents", args=[personas.importer_b.pk]))
    assert listing.status_code == 404
    assert client.get("/media/" + theirs[0].file.name).status_code == 404  # no public URL


UPLOAD = [("upload", (302, 302, 302, 302, 302, 403, 404))]


@pytest.mark.parametrize(("case", "persona", "expected"), persona_cases(UPLOAD))
def test_who_may_file_a_document(personas, client_for, case, persona, expected):
    response = client_for(personas.all()[persona]).post(
        reverse("compliance:documents", args=[personas.importer_a.pk]),
        {
            "document_type": "ruling",
            "record_date": "2026-11-01",
            "file": SimpleUploadedFile("ruling.pdf", PDF, content_type="application/pdf"),
        },
    )

    assert response.status_code == expected
    assert ComplianceDocument.objects.count() == (1 if expected == 302 else 0)


def test_an_upload_whose_content_does_not_match_is_refused_on_the_page(personas, client_for):
    response = client_for(personas.bam_a).post(
        reverse("compliance:documents", args=[personas.importer_a.pk]),
        {
            "document_type": "commercial_invoice",
            "record_date": "2026-11-01",
            "file": SimpleUploadedFile("invoice.pdf", PNG, content_type="application/pdf"),
        },
    )

    assert response.status_code == 200
    assert response.context["form"].errors["file"] == ["The file's content is not a pdf file."]
    assert ComplianceDocument.objects.count() == 0


def test_the_document_list_is_constant_query(personas, client_for, django_assert_num_queries):
    client = client_for(personas.broker_finance)
    url = reverse("compliance:documents", args=[personas.importer_a.pk])
    _file(personas.importer_a)
    client.get(url)
    with django_assert_num_queries(11) as few:
        client.get(url)
    for n in range(4):
        _file(personas.importer_a, name=f"n{n}.pdf")
    with django_assert_num_queries(len(few.captured_queries)):
        response = client.get(url)
    assert len(response.context["documents"]) == 5


def test_the_api_never_lists_or_serves_another_importers_documents(personas, api_as):
    mine = _file(personas.importer_a)
    theirs = _file(personas.importer_b, name="b.pdf")
    client = api_as("bam_a")

    listing = client.get("/api/v1/compliance-documents/")
    assert [row["id"] for row in listing.json()["results"]] == [mine.pk]
    for pk in (theirs.pk, theirs.pk + 1):
        assert client.get(f"/api/v1/compliance-documents/{pk}/").status_code == 404
        assert client.get(f"/api/v1/compliance-documents/{pk}/download/").status_code == 404
    response = client.get(f"/api/v1/compliance-documents/{mine.pk}/download/")
    assert response.status_code == 200
    assert b"".join(response.streaming_content) == PDF
    assert (
        api_as("employee_a").get(f"/api/v1/compliance-documents/{mine.pk}/download/").status_code
        == 403
    )


def _purge_post(client, pks, **extra):
    return client.post(
        "/admin/services/compliancedocument/",
        {"action": "purge_expired", "_selected_action": [str(pk) for pk in pks], **extra},
    )


@pytest.mark.django_db
def test_the_admin_purges_only_after_confirming(personas, client_for):
    expired_doc = _file(personas.importer_a, record_date=dt.date(2010, 1, 1))
    held = _file(personas.importer_a, name="held.pdf", record_date=dt.date(2010, 1, 1))
    ComplianceDocument.objects.filter(pk=held.pk).update(legal_hold=True, legal_hold_reason="x")
    admin = UserFactory(email="root@broker.example.com", is_staff=True, is_superuser=True)
    client = client_for(admin)

    asked = _purge_post(client, [expired_doc.pk, held.pk])

    assert asked.status_code == 200
    assert "Confirm the purge" in asked.content.decode()
    assert ComplianceDocument.objects.filter(purged_at__isnull=False).count() == 0

    done = _purge_post(client, [expired_doc.pk, held.pk], confirm="yes")

    assert done.status_code == 302
    expired_doc.refresh_from_db()
    held.refresh_from_db()
    assert (expired_doc.purged_by, expired_doc.file.name) == (admin, "")
    assert held.purged_at is None and held.file.name


@pytest.mark.django_db
def test_staff_without_the_purge_right_cannot_purge(personas, client_for):
    from django.contrib.auth.models import Permission

    doc = _file(personas.importer_a, record_date=dt.date(2010, 1, 1))
    agent = personas.broker_agent
    agent.is_staff = True
    agent.save()
    agent.user_permissions.add(
        *Permission.objects.filter(
            content_type__app_label="services", codename__endswith="compliancedocument"
        )
    )

    client = client_for(agent)
    assert client.get("/admin/services/compliancedocument/").status_code == 200  # let in

    response = _purge_post(client, [doc.pk], confirm="yes")

    assert response.status_code == 302
    assert (
        "Only a broker admin may purge records."
        in client.get(response["Location"]).content.decode()
    )
    doc.refresh_from_db()
    assert doc.purged_at is None


@pytest.mark.parametrize(
    ("name", "data"),
    [
        ("invoice.pdf", PDF),
        ("scan.png", PNG),
        ("notice.csv", b"account,amount\n123456789RM0001,10.00\n"),
        ("memo.txt", b"Correction filed by the broker.\n"),
    ],
    ids=["pdf", "png", "csv", "txt"],
)
def test_the_api_serves_a_document_in_a_content_type_its_schema_documents(
    personas, api_as, name, data
):
    """The download answers in the type the file was filed under, so the schema lists each."""
    document = _file(personas.importer_a, name=name, data=data)
    client = api_as("bam_a")
    schema = client.get("/api/schema/", {"format": "json"}).json()
    operation = schema["paths"]["/api/v1/compliance-documents/{id}/download/"]["get"]

    response = client.get(f"/api/v1/compliance-documents/{document.pk}/download/")

    assert response.status_code == 200
    assert response["Content-Type"] == document.content_type
    assert document.content_type in operation["responses"]["200"]["content"]

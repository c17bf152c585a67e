"""Files the product receives are filed as compliance documents where they arrive."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile

from carm_portal.onboarding_wizard.forms import BusinessForm
from services.compliance.documents import purge_documents
from services.models import ComplianceDocument
from tests.clients.test_wizard_steps import business_data, make
from tests.factories import ImporterFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def importer():
    return ImporterFactory(legal_name="Maple Leaf Provisions Inc.")


@pytest.fixture
def bam():
    return UserFactory(email="dana@maple.example.com")


@pytest.fixture(autouse=True)
def storage(settings, tmp_path):
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": str(tmp_path)},
        },
    }


def _submit(importer, bam, content=b"%PDF-1.7 statement", saved=None):
    upload = SimpleUploadedFile("SOA Oct 2026.pdf", content, "application/pdf")
    form = make(
        BusinessForm,
        business_data(importer, broker_retrieves=""),
        {"statement": upload},
        importer=importer,
        user=bam,
        saved=saved,
    )
    assert form.is_valid(), form.errors
    return form.apply(by=bam).keep["statement_file"]


def test_the_wizard_statement_is_filed_as_an_soa_record(importer, bam):
    stored = _submit(importer, bam)

    document = ComplianceDocument.objects.get()
    assert (document.importer, document.document_type, document.file.name) == (
        importer,
        "soa",
        stored["path"],
    )
    assert (document.original_name, document.content_type, document.uploaded_by) == (
        "SOA_Oct_2026.pdf",
        "application/pdf",
        bam,
    )
    assert document.retain_until.month == 12 and document.retain_until.day == 31


def test_a_replaced_wizard_statement_stays_as_a_record(importer, bam):
    first = _submit(importer, bam)
    second = _submit(importer, bam, content=b"%PDF-1.7 newer", saved={"statement_file": first})

    assert default_storage.exists(first["path"]) and default_storage.exists(second["path"])
    assert ComplianceDocument.objects.count() == 2


def test_purging_keeps_a_file_another_record_still_shares(importer, bam):
    stored = _submit(importer, bam)
    document = ComplianceDocument.objects.get()
    twin = ComplianceDocument.objects.create(
        **{
            f.name: getattr(document, f.name)
            for f in ComplianceDocument._meta.concrete_fields
            if f.name not in ("id",)
        }
    )
    ComplianceDocument.objects.filter(pk=document.pk).update(retain_until=dt.date(2020, 12, 31))

    purge_documents([document], by=UserFactory(roles=["broker admin"]), today=dt.date(2026, 1, 1))

    assert default_storage.exists(stored["path"])
    assert twin.file.name == stored["path"]

"""A large statement upload imported by a real Celery worker is filed once it is accepted."""

from __future__ import annotations

import pytest
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile

from services.models import ComplianceDocument
from statements.importing.batches import receive_upload
from statements.tasks import heavy_import_batch
from tests.statements.conftest import csv_text, statement_row
from tests.worker import wait_for

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]


def test_the_worker_files_the_statement_it_imported(worker_queue, personas, settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path / "media")
    bn15 = personas.importer_a.program_accounts.get().bn15
    rows = [
        statement_row(account_number=bn15, transaction_number=f"12345{i:09d}") for i in range(50)
    ]
    content = csv_text("statement", rows).encode()
    batch = receive_upload(
        kind="statement", upload=SimpleUploadedFile("big.csv", content), user=None
    )

    heavy_import_batch.apply_async(kwargs={"batch_id": batch.pk}, queue=worker_queue)

    assert wait_for(lambda: ComplianceDocument.objects.exists())
    document = ComplianceDocument.objects.get()
    assert (document.importer, document.document_type) == (personas.importer_a, "soa")
    with default_storage.open(document.file.name, "rb") as stored:
        assert stored.read() == content

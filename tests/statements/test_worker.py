"""A large upload imported by a real Celery worker (in-process thread) through the broker."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from statements.importing.batches import receive_upload
from statements.models import ImportBatch, Statement
from statements.tasks import heavy_import_batch
from tests.statements.conftest import csv_text, statement_row
from tests.worker import wait_for

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]


def test_the_worker_imports_an_uploaded_file(worker_queue, accounts, media):
    rows = [statement_row(transaction_number=f"12345{i:09d}") for i in range(200)]
    upload = SimpleUploadedFile("big.csv", csv_text("statement", rows).encode())
    batch = receive_upload(kind="statement", upload=upload, user=None)

    heavy_import_batch.apply_async(kwargs={"batch_id": batch.pk}, queue=worker_queue)

    assert wait_for(lambda: ImportBatch.objects.get(pk=batch.pk).status == "accepted")
    statement = Statement.objects.get()
    assert (statement.line_count, statement.source_batch_id) == (200, batch.pk)
    # Accepted: the file is kept as the importer's record (statements.importing.received).
    with ImportBatch.objects.get(pk=batch.pk).source_file.open("rb") as kept:
        assert kept.read() == csv_text("statement", rows).encode()

"""Deleting a file statements stored, unless another app keeps it.

Statements stores uploads while they are imported and the reconciliation PDFs it renders; the
compliance work (services, built on statements) may file them as an importer's records. Statements
does not import services, so before deleting it asks through ``signals.keep_file``: one receiver
answering True (the file is a compliance record) keeps it.
"""

from __future__ import annotations

from django.core.files.storage import Storage, default_storage

from statements.signals import keep_file


def is_kept(path: str) -> bool:
    """Whether a receiver of ``keep_file`` keeps the stored file ``path``."""
    return any(answer is True for _receiver, answer in keep_file.send(sender=Storage, path=path))


def delete_unless_kept(path: str, storage: Storage | None = None) -> bool:
    """Delete ``path`` from ``storage`` (the default) unless it is kept; returns whether deleted."""
    if not path or is_kept(path):
        return False
    (storage or default_storage).delete(path)
    return True

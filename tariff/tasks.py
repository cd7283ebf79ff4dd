"""Celery tasks of the tariff: thin, named, taking ids."""

from celery import shared_task

from tariff.imports import tariff_import_run


@shared_task(name="tariff.run_import")
def run_import(import_id: int) -> str:
    """Import an uploaded tariff file (idempotent: only a queued import runs)."""
    return tariff_import_run(import_id=import_id)

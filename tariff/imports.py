"""Tariff files imported in the background, with progress an administrator can watch.

``tariff_import_start`` (request) records the upload and queues ``tariff.run_import`` on commit;
``tariff_import_run`` (worker) runs the import. The import itself is one transaction, so its progress
cannot live in the database (nobody could see it before the commit): it is kept in Redis under
``tariff-import:<id>`` and read by ``tariff_import_progress``.
"""

import json
import logging

import redis
from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from customs.queue import enqueue_on_commit
from customs.services.audit import audit_record
from tariff.choices import ImportKind, ImportStatus
from tariff.models import TariffImport
from tariff.services import ImportReport, TariffImportRejected
from tariff.services.measures_import import measures_import
from tariff.services.nomenclature import national_lines_import

logger = logging.getLogger(__name__)
PROGRESS_SECONDS = 24 * 3600


def _redis():
    return redis.Redis.from_url(settings.REDIS_URL, socket_timeout=2)


def _progress_key(import_id: int) -> str:
    return f"tariff-import:{import_id}"


def tariff_import_start(*, actor, kind: str, uploaded_file, valid_from, dry_run: bool) -> TariffImport:
    """Store the uploaded file and queue its import."""
    with transaction.atomic():
        tariff_import = TariffImport.objects.create(
            kind=kind, file=uploaded_file, valid_from=valid_from, dry_run=dry_run, created_by=actor
        )
        audit_record(
            action="tariff.import.queued",
            actor=actor,
            obj=tariff_import,
            after={"kind": kind, "file": tariff_import.file.name, "dry_run": dry_run},
        )
        enqueue_on_commit("tariff.run_import", tariff_import.pk)
    return tariff_import


def _report_json(report: ImportReport) -> dict:
    return {
        "counts": report.counts(),
        "rejected": [
            {"line": row.line, "code": row.code, "reason": row.reason} for row in report.rejected[:1000]
        ],
        "rejected_total": len(report.rejected),
        "written": report.written,
        "dry_run": report.dry_run,
        "seconds": report.seconds,
    }


def tariff_import_run(*, import_id: int) -> str:
    """Run a queued import (idempotent: anything not queued is left alone). Returns the final status."""
    claimed = TariffImport.objects.filter(pk=import_id, status=ImportStatus.QUEUED).update(
        status=ImportStatus.RUNNING
    )
    if not claimed:
        return TariffImport.objects.filter(pk=import_id).values_list("status", flat=True).first() or ""
    tariff_import = TariffImport.objects.get(pk=import_id)
    store = _redis()

    def progress(done: int, total: int) -> None:
        try:
            store.set(
                _progress_key(import_id), json.dumps({"done": done, "total": total}), ex=PROGRESS_SECONDS
            )
        except redis.RedisError:
            logger.warning("progress of tariff import %s not stored", import_id)

    run = national_lines_import if tariff_import.kind == ImportKind.NATIONAL_LINES else measures_import
    arguments = {
        "path": tariff_import.file.path,
        "dry_run": tariff_import.dry_run,
        "progress": progress,
        "actor": tariff_import.created_by,
    }
    if tariff_import.kind == ImportKind.NATIONAL_LINES:
        arguments["valid_from"] = tariff_import.valid_from
    try:
        report = run(**arguments)
        status = ImportStatus.DONE
    except TariffImportRejected as rejection:
        report, status = rejection.report, ImportStatus.REJECTED
    except Exception as error:  # a bug or an outage: record it, write nothing
        logger.exception("tariff import %s failed", import_id)
        TariffImport.objects.filter(pk=import_id).update(
            status=ImportStatus.FAILED,
            summary=_("The import failed: %(error)s") % {"error": error},
            finished_at=timezone.now(),
        )
        return ImportStatus.FAILED
    TariffImport.objects.filter(pk=import_id).update(
        status=status, summary=report.summary(), report=_report_json(report), finished_at=timezone.now()
    )
    if status == ImportStatus.DONE and not tariff_import.dry_run:
        from tariff.engine import tariff_cache_clear

        tariff_cache_clear()
    return status


def tariff_import_progress(tariff_import: TariffImport) -> dict:
    """Status and progress for the page that watches an import."""
    done, total = 0, 0
    try:
        stored = _redis().get(_progress_key(tariff_import.pk))
    except redis.RedisError:
        stored = None
    if stored:
        values = json.loads(stored)
        done, total = values["done"], values["total"]
    finished = tariff_import.status in (ImportStatus.DONE, ImportStatus.REJECTED, ImportStatus.FAILED)
    if finished and total:
        done = total
    return {
        "status": tariff_import.status,
        "status_label": str(tariff_import.get_status_display()),
        "done": done,
        "total": total,
        "percent": int(done * 100 / total) if total else (100 if finished else 0),
        "finished": finished,
        "summary": tariff_import.summary,
    }

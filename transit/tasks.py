"""Celery tasks of the transit module: thin, named, taking ids."""

from celery import shared_task

from transit.services.alerts import transit_overdue_alert
from transit.services.documents import tad_original_request, tad_render_print, tad_sweep
from transit.services.lifecycle import transit_overdue_flag


@shared_task(name="transit.print_tad", ignore_result=True)
def print_tad(movement_id: int) -> str:
    """Ask for the original TAD of a movement just released (idempotent) and render it."""
    document = tad_original_request(movement_id)
    return "no MRN" if document is None else f"print {document.pk}"


@shared_task(name="transit.render_tad")
def render_tad(print_id: int) -> str:
    return tad_render_print(print_id)


@shared_task(name="transit.sweep")
def sweep() -> dict:
    """Flag the movements past their time limit that have not arrived; print the TADs a broker outage
    lost."""
    return {"overdue": transit_overdue_flag(), **tad_sweep()}


@shared_task(name="transit.alert_overdue", ignore_result=True)
def alert_overdue(movement_id: int) -> int:
    """Alert the principal's users and the departure office about an overdue movement (idempotent)."""
    return transit_overdue_alert(movement_id)

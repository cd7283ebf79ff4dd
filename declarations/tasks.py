"""Celery tasks of the declarations module: thin, named, taking ids."""

from celery import shared_task

from customs.queue import enqueue_on_commit
from declarations.services.imports import declaration_import_run, declaration_imports_pending
from declarations.services.printing import (
    declaration_print_render,
    declaration_print_sweep,
    release_order_issue,
)


@shared_task(name="declarations.render_print")
def render_print(print_id: int) -> str:
    """Render a printed document of a declaration (idempotent: a ready document is not rendered again)."""
    return declaration_print_render(print_id)


@shared_task(name="declarations.sweep_prints")
def sweep_prints() -> int:
    """Queue again the documents still pending after a while (a broker outage may have lost the task)."""
    return declaration_print_sweep()


@shared_task(name="declarations.issue_release_order")
def issue_release_order(declaration_id: int) -> str:
    """Print the release order of a declaration just released (idempotent)."""
    return release_order_issue(declaration_id)


@shared_task(name="declarations.import_declaration")
def import_declaration(import_id: int) -> str:
    """Read an uploaded ASYCUDA World or WCO DM file into a draft, with its report (idempotent)."""
    return declaration_import_run(import_id)


@shared_task(name="declarations.sweep_imports")
def sweep_imports() -> int:
    """Queue again the imports still waiting after a minute (a broker outage may have lost the task)."""
    pending = declaration_imports_pending()
    for import_id in pending:
        enqueue_on_commit("declarations.import_declaration", import_id)  # outside a transaction: sent now
    return len(pending)

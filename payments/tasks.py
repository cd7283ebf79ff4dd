"""Celery tasks of the payments module: thin, named, taking ids."""

from celery import shared_task

from payments.services.receipts import receipt_print_render
from payments.services.refunds import declaration_cancelled_settle, declaration_payments_reconcile
from payments.services.sweeper import payments_sweep


@shared_task(name="payments.declaration_reassessed", ignore_result=True)
def declaration_reassessed(declaration_id: int) -> str:
    """Settle a re-assessed declaration against what it has paid: paid again, a difference due, or
    a refund for approval (idempotent)."""
    return declaration_payments_reconcile(declaration_id)


@shared_task(name="payments.declaration_cancelled", ignore_result=True)
def declaration_cancelled(declaration_id: int) -> str:
    """Give back what a cancelled declaration paid (a refund for approval) or deferred (idempotent)."""
    return declaration_cancelled_settle(declaration_id)


@shared_task(name="payments.render_receipt")
def render_receipt(print_id: int) -> str:
    return receipt_print_render(print_id)


@shared_task(name="payments.sweep")
def sweep() -> dict:
    """Do the settlements and renderings whose task a broker outage lost."""
    return payments_sweep()

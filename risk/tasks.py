"""Celery tasks of the risk module: thin, named, taking ids."""

from celery import shared_task

from risk.services.assignment import (
    examinations_of_closed_declarations_cancel,
    examinations_unassigned_assign,
)
from risk.services.backtest import backtest_run
from risk.services.selectivity import selectivity_score, selectivity_sweep


@shared_task(name="risk.score_declaration", ignore_result=True)  # the lane is the result, in the database
def score_declaration(declaration_id: int) -> str:
    """Score a registered declaration and give it its lane (idempotent)."""
    selectivity = selectivity_score(declaration_id)
    return selectivity.lane if selectivity is not None else "skipped"


@shared_task(name="risk.sweep")
def sweep() -> dict:
    """Re-send the scoring of declarations left without a lane; assign examinations that waited; cancel
    the examinations of declarations closed meanwhile."""
    return {
        "rescored": selectivity_sweep(),
        "assigned": examinations_unassigned_assign(),
        "cancelled": examinations_of_closed_declarations_cancel(),
    }


@shared_task(name="risk.run_backtest")
def run_backtest(backtest_id: int) -> str:
    """Run a backtest of a criterion over a past period, recording its progress."""
    return backtest_run(backtest_id)

"""Code lists of the declaration and the one TRANSITIONS table of its lifecycle.

Every state change is a service in ``declarations.services.lifecycle`` that looks its move up here: the
states it may start from, the state it leads to, who may make it (the declarant's side, an officer of
the office, or the system) and whether the law needs a reason. Nothing else decides whether a move is
allowed.
"""

from dataclasses import dataclass

from django.db import models
from django.utils.translation import gettext_lazy as _


class DeclarationType(models.TextChoices):
    """Type of declaration + general procedure (SAD box 1): the model code."""

    IM4 = "IM4", _("IM4 Import for home use")
    IM5 = "IM5", _("IM5 Temporary admission")
    IM7 = "IM7", _("IM7 Warehousing")
    EX1 = "EX1", _("EX1 Permanent export")
    EX3 = "EX3", _("EX3 Re-export")


# The requested procedure (first two digits of the CPC) each model code admits.
REQUESTED_PROCEDURES: dict[str, frozenset[str]] = {
    DeclarationType.IM4: frozenset({"40", "42", "43", "44", "45", "46", "47", "48", "49", "61", "63", "68"}),
    DeclarationType.IM5: frozenset({"51", "53", "54"}),
    DeclarationType.IM7: frozenset({"71", "72", "76", "77", "78"}),
    DeclarationType.EX1: frozenset({"10", "11", "21", "22", "23"}),
    DeclarationType.EX3: frozenset({"31"}),
}


def direction_of(declaration_type: str) -> str:
    """IM or EX, from the model code."""
    return declaration_type[:2]


class Status(models.TextChoices):
    STORED = "stored", _("Stored (draft)")
    LODGED = "lodged", _("Lodged, awaiting registration")
    REGISTERED = "registered", _("Registered")
    ASSESSED = "assessed", _("Assessed")
    QUERIED = "queried", _("Queried")
    AMENDMENT_REQUESTED = "amendment_requested", _("Amendment requested")
    CANCELLATION_REQUESTED = "cancellation_requested", _("Cancellation requested")
    PAID = "paid", _("Paid")
    RELEASED = "released", _("Released")
    CANCELLED = "cancelled", _("Cancelled")
    REJECTED = "rejected", _("Rejected")


class Lane(models.TextChoices):
    """Selectivity lane, set by the risk module."""

    GREEN = "green", _("Green")
    YELLOW = "yellow", _("Yellow")
    RED = "red", _("Red")
    BLUE = "blue", _("Blue")


class FreightSplit(models.TextChoices):
    PRICE = "price", _("By invoice price")
    MASS = "mass", _("By gross mass")


class ValuationMethod(models.TextChoices):
    TRANSACTION_VALUE = "1", _("1 Transaction value")
    IDENTICAL_GOODS = "2", _("2 Identical goods")
    SIMILAR_GOODS = "3", _("3 Similar goods")
    DEDUCTIVE = "4", _("4 Deductive value")
    COMPUTED = "5", _("5 Computed value")
    FALL_BACK = "6", _("6 Fall-back")


class Side(models.TextChoices):
    """Who may make a move."""

    DECLARANT = "declarant", _("Declarant")
    OFFICER = "officer", _("Officer")
    SYSTEM = "system", _("System")


@dataclass(frozen=True)
class Transition:
    name: str
    sources: frozenset[str]
    target: str | None  # None: back to the state the declaration was in before (a query's answer)
    side: str
    label: str
    reason_required: bool = False


S = Status
_BEFORE_RELEASE = frozenset(
    {S.REGISTERED, S.ASSESSED, S.QUERIED, S.AMENDMENT_REQUESTED, S.CANCELLATION_REQUESTED, S.PAID}
)
TRANSITIONS: dict[str, Transition] = {
    t.name: t
    for t in [
        Transition("lodge", frozenset({S.STORED}), S.LODGED, Side.DECLARANT, _("Lodge")),
        Transition("register", frozenset({S.LODGED}), S.REGISTERED, Side.OFFICER, _("Register")),
        Transition("assess", frozenset({S.REGISTERED}), S.ASSESSED, Side.SYSTEM, _("Assess")),
        Transition(
            "reject", frozenset({S.LODGED}), S.REJECTED, Side.OFFICER, _("Reject"), reason_required=True
        ),
        Transition(
            "query",
            frozenset({S.REGISTERED, S.ASSESSED}),
            S.QUERIED,
            Side.OFFICER,
            _("Query the declarant"),
            reason_required=True,
        ),
        Transition(
            "respond",
            frozenset({S.QUERIED}),
            None,
            Side.DECLARANT,
            _("Answer the query"),
            reason_required=True,
        ),
        Transition(
            "request_amendment",
            frozenset({S.ASSESSED}),
            S.AMENDMENT_REQUESTED,
            Side.DECLARANT,
            _("Request an amendment"),
            reason_required=True,
        ),
        Transition(
            "accept_amendment",
            frozenset({S.AMENDMENT_REQUESTED}),
            S.ASSESSED,
            Side.OFFICER,
            _("Accept the amendment"),
        ),
        Transition(
            "refuse_amendment",
            frozenset({S.AMENDMENT_REQUESTED}),
            S.ASSESSED,
            Side.OFFICER,
            _("Refuse the amendment"),
            reason_required=True,
        ),
        Transition(
            "reassess",
            frozenset({S.ASSESSED, S.PAID}),  # after payment: the difference is a new amount due
            S.ASSESSED,
            Side.OFFICER,
            _("Re-assess after a check"),
            reason_required=True,
        ),
        Transition(
            "request_cancellation",
            frozenset({S.REGISTERED, S.ASSESSED, S.PAID}),
            S.CANCELLATION_REQUESTED,
            Side.DECLARANT,
            _("Request cancellation"),
            reason_required=True,
        ),
        Transition(
            "refuse_cancellation",
            frozenset({S.CANCELLATION_REQUESTED}),
            None,
            Side.OFFICER,
            _("Refuse the cancellation"),
            reason_required=True,
        ),
        Transition("mark_paid", frozenset({S.ASSESSED}), S.PAID, Side.SYSTEM, _("Mark paid")),
        Transition("release", frozenset({S.PAID}), S.RELEASED, Side.OFFICER, _("Release")),
        Transition("withdraw", frozenset({S.STORED, S.LODGED}), S.CANCELLED, Side.DECLARANT, _("Withdraw")),
        Transition("cancel", _BEFORE_RELEASE, S.CANCELLED, Side.OFFICER, _("Cancel"), reason_required=True),
    ]
}

# States in which the declarant may still edit the declaration freely.
EDITABLE_STATES = frozenset({S.STORED})
# States whose declaration an officer of the office sees (a draft is the declarant's own business).
OFFICER_VISIBLE_STATES = frozenset(set(Status.values) - {S.STORED})
FINAL_STATES = frozenset({S.RELEASED, S.CANCELLED, S.REJECTED})

# Numbering series (per office and year): registration, assessment.
REGISTRATION_SERIES = "C"
ASSESSMENT_SERIES = "A"

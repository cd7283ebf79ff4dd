"""What a declaration owes, per tax, read from its stored assessment and the ledger.

The assessment's tax lines say what is due per tax; the revenue entries of the ledger that carry the
declaration say what was credited per tax (payments, deferred payments, less approved refunds). The
difference is the amount due (positive) or overpaid (negative): after a re-assessment it is the
supplementary payment or the refund, tax by tax.
"""

from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal

from django.db.models import Sum

from declarations.choices import Status
from declarations.models import Declaration, TaxLine
from payments.choices import AccountKind
from payments.models import Entry

ZERO = Decimal("0.00")
# The states in which the amount due may be paid (declarations' ``mark_paid`` move starts there).
PAYABLE_STATES = frozenset({Status.ASSESSED})


@dataclass(frozen=True)
class Dues:
    """A declaration's figures: assessed, credited and outstanding, in total and per tax."""

    assessed_by_tax: dict[str, Decimal] = field(default_factory=dict)
    credited_by_tax: dict[str, Decimal] = field(default_factory=dict)

    @property
    def outstanding_by_tax(self) -> dict[str, Decimal]:
        taxes = sorted(set(self.assessed_by_tax) | set(self.credited_by_tax))
        outstanding = {
            tax: self.assessed_by_tax.get(tax, ZERO) - self.credited_by_tax.get(tax, ZERO) for tax in taxes
        }
        return {tax: amount for tax, amount in outstanding.items() if amount != ZERO}

    @property
    def assessed(self) -> Decimal:
        return sum(self.assessed_by_tax.values(), ZERO)

    @property
    def credited(self) -> Decimal:
        return sum(self.credited_by_tax.values(), ZERO)

    @property
    def due(self) -> Decimal:
        """Positive: to pay; negative: overpaid (a refund); zero: settled."""
        return self.assessed - self.credited


def declaration_dues(declaration: Declaration) -> Dues:
    assessed: dict[str, Decimal] = defaultdict(lambda: ZERO)
    if declaration.assessment_number is not None:
        for row in (
            TaxLine.objects.filter(declaration=declaration)
            .values("measure_type")
            .annotate(total=Sum("amount"))
            .order_by()
        ):
            assessed[row["measure_type"]] += row["total"]
    credited = {
        row["tax_type"]: -row["total"]
        for row in Entry.objects.filter(declaration=declaration, account__kind=AccountKind.REVENUE)
        .values("tax_type")
        .annotate(total=Sum("amount"))
        .order_by()
        if row["total"]
    }
    return Dues(assessed_by_tax=dict(assessed), credited_by_tax=credited)


def amount_due(declaration: Declaration) -> Decimal:
    """What is to pay now: zero unless the declaration is in a payable state."""
    if declaration.status not in PAYABLE_STATES:
        return ZERO
    return max(declaration_dues(declaration).due, ZERO)

"""What the payments module adds to the officer's declaration page (hook ``declarations.officer_panels``,
registered in ``PaymentsConfig.ready``): what is assessed, credited and due, tax by tax; the payments and
receipts; the refunds. The portal's panel (``portal/payment_panels.py``) builds on ``dues_context``."""

from declarations.choices import Status
from payments.models import Receipt, Refund
from payments.services.dues import PAYABLE_STATES, declaration_dues
from payments.services.permissions import is_cashier_of

OFFICER_TEMPLATE = "payments/_declaration_panel.html"


def dues_context(declaration) -> dict | None:
    """The figures of a declaration's payment, for a panel; None before it is assessed."""
    if declaration.assessment_number is None or declaration.status in (Status.STORED, Status.LODGED):
        return None
    dues = declaration_dues(declaration)
    taxes = sorted(set(dues.assessed_by_tax) | set(dues.credited_by_tax))
    return {
        "declaration": declaration,
        "dues": dues,
        "tax_rows": [
            {
                "tax": tax,
                "assessed": dues.assessed_by_tax.get(tax, 0),
                "credited": dues.credited_by_tax.get(tax, 0),
                "outstanding": dues.outstanding_by_tax.get(tax, 0),
            }
            for tax in taxes
        ],
        "payable": declaration.status in PAYABLE_STATES and dues.due > 0,
        "receipts": list(
            Receipt.objects.filter(declaration=declaration).select_related("payment").order_by("issued_at")
        ),
        "refunds": list(Refund.objects.filter(declaration=declaration).order_by("-requested_at")),
    }


def officer_panel(*, request, declaration):
    context = dues_context(declaration)
    if context is None:
        return None
    context["may_take_payment"] = context["payable"] and is_cashier_of(request.user, declaration.office_id)
    return OFFICER_TEMPLATE, context

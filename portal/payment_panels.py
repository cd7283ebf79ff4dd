"""The payments panel of the portal's declaration page (hook ``declarations.portal_panels``, registered
in ``PortalConfig.ready``): the figures of ``payments.panels.dues_context``, and for whoever pays for the
trader the ways to pay that can work now (no deferral without a guarantee that covers it; nothing but
the order while the declaration is in an open bank order)."""

from django.utils import timezone

from payments.models import Guarantee
from payments.panels import dues_context
from payments.services.collection import open_order_of
from payments.services.permissions import payer_traders

TEMPLATE = "portal/payments/_declaration_panel.html"


def declaration_panel(*, request, declaration):
    context = dues_context(declaration)
    if context is None:
        return None
    today = timezone.localdate()
    context["may_pay"] = context["payable"] and declaration.trader_id in payer_traders(request.user)
    context["open_order"] = open_order_of(declaration) if context["payable"] else None
    context["deferrable"] = (
        context["may_pay"]
        and Guarantee.objects.filter(
            trader_id=declaration.trader_id,
            allows_deferred_payment=True,
            revoked=False,
            valid_from__lte=today,
            valid_to__gte=today,
        ).exists()
    )
    return TEMPLATE, context

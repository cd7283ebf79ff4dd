"""The webhook screens of the portal (/portal/webhooks/): a trader's or broker's endpoints, each with its
signing secret, its settings (paused or not, the events it receives), and its delivery log, where a
delivery can be sent again.

The endpoints and deliveries are read only through ``webhook_endpoint_list_for_user`` and
``webhook_delivery_list_for_user`` (another party's is a 404); every change is a POST calling one service
of ``customs.services.webhooks``. Staff are not portal users and get 403.
"""

from django.contrib import messages
from django.core.paginator import Paginator
from django.db.models import Prefetch
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from customs.models.events import DeliveryStatus, WebhookAttempt, WebhookDelivery, WebhookEndpoint
from customs.selectors import webhook_delivery_list_for_user, webhook_endpoint_list_for_user
from customs.services.events import EVENT_KINDS
from customs.services.webhooks import (
    EVENT_ID_HEADER,
    WebhookInvalid,
    WebhookNotAllowed,
    webhook_delivery_replay,
    webhook_endpoint_create,
    webhook_endpoint_delete,
    webhook_endpoint_rotate_secret,
    webhook_endpoint_update,
)
from customs.signatures import SIGNATURE_HEADER, TIMESTAMP_HEADER
from portal.access import portal_user_required
from portal.webhook_forms import EndpointForm, EndpointKindsForm, errors_to_form

DELIVERIES_PER_PAGE = 50
DELIVERY_CLASSES = {
    DeliveryStatus.PENDING: "status-assessed",
    DeliveryStatus.DELIVERED: "status-released",
    DeliveryStatus.FAILED: "status-rejected",
}


def kind_labels(kinds) -> list[str]:
    return [str(EVENT_KINDS.get(kind, kind)) for kind in kinds]


def delivery_badge(delivery: WebhookDelivery) -> dict:
    return {
        "value": delivery.status,
        "label": delivery.get_status_display(),
        "css": DELIVERY_CLASSES.get(delivery.status, "status"),
    }


def _endpoint_or_404(user, pk) -> WebhookEndpoint:
    try:
        return webhook_endpoint_list_for_user(user).get(pk=pk)
    except WebhookEndpoint.DoesNotExist as error:
        raise Http404(_("There is no such webhook endpoint.")) from error


def _endpoint_url(endpoint: WebhookEndpoint, anchor: str = "") -> str:
    return reverse("portal:webhook-detail", args=[endpoint.pk]) + (f"#{anchor}" if anchor else "")


# --------------------------------------------------------------------------------------------- list


def _render_list(request, form, status=200):
    endpoints = [
        {"endpoint": endpoint, "kinds": kind_labels(endpoint.kinds)}
        for endpoint in webhook_endpoint_list_for_user(request.user).order_by("created_at", "pk")
    ]
    return render(request, "portal/webhooks/list.html", {"rows": endpoints, "form": form}, status=status)


@portal_user_required
def webhook_list(request):
    """The user's endpoints, and the form to add one (POST here)."""
    if request.method != "POST":
        return _render_list(request, EndpointForm())
    form = EndpointForm(request.POST)
    if form.is_valid():
        try:
            endpoint = webhook_endpoint_create(
                actor=request.user,
                url=form.cleaned_data["url"],
                description=form.cleaned_data["description"],
                kinds=form.cleaned_data["kinds"],
            )
        except WebhookInvalid as error:
            errors_to_form(error.errors, form)
        except WebhookNotAllowed as error:
            form.add_error(None, str(error))
        else:
            messages.success(
                request,
                _("The endpoint %(url)s is added. Keep its signing secret in your system.")
                % {"url": endpoint.url},
            )
            return redirect(_endpoint_url(endpoint, "secret"))
    return _render_list(request, form, status=422)


# --------------------------------------------------------------------------------------- the endpoint


def _deliveries(user, endpoint):
    return webhook_delivery_list_for_user(user).filter(endpoint=endpoint)


def _render_endpoint(request, endpoint, *, kinds_form=None, status=200):
    deliveries = _deliveries(request.user, endpoint).prefetch_related(
        Prefetch("attempt_log", WebhookAttempt.objects.order_by("number"))
    )
    page = Paginator(deliveries, DELIVERIES_PER_PAGE).get_page(request.GET.get("page"))
    rows = [
        {
            "delivery": delivery,
            "status": delivery_badge(delivery),
            "kind": EVENT_KINDS.get(delivery.event.kind, delivery.event.kind),
            "attempts": list(delivery.attempt_log.all()),
        }
        for delivery in page
    ]
    context = {
        "endpoint": endpoint,
        "kinds": kind_labels(endpoint.kinds),
        "kinds_form": kinds_form or EndpointKindsForm(initial={"kinds": endpoint.kinds}),
        "page": page,
        "rows": rows,
        "timestamp_header": TIMESTAMP_HEADER,
        "signature_header": SIGNATURE_HEADER,
        "event_id_header": EVENT_ID_HEADER,
    }
    return render(request, "portal/webhooks/detail.html", context, status=status)


@portal_user_required
def webhook_detail(request, pk):
    """The endpoint: its secret and how to check a delivery, its settings, and the delivery log."""
    return _render_endpoint(request, _endpoint_or_404(request.user, pk))


@portal_user_required
@require_POST
def webhook_kinds(request, pk):
    """Change the events the endpoint receives (it stays paused or active as it is)."""
    endpoint = _endpoint_or_404(request.user, pk)
    form = EndpointKindsForm(request.POST)
    if form.is_valid():
        try:
            webhook_endpoint_update(
                actor=request.user,
                endpoint=endpoint,
                active=endpoint.active,
                kinds=form.cleaned_data["kinds"],
            )
        except WebhookInvalid as error:
            errors_to_form(error.errors, form)
        else:
            messages.success(request, _("The events of the endpoint are saved."))
            return redirect(_endpoint_url(endpoint, "settings"))
    return _render_endpoint(request, endpoint, kinds_form=form, status=422)


@portal_user_required
@require_POST
def webhook_pause(request, pk):
    endpoint = _endpoint_or_404(request.user, pk)
    webhook_endpoint_update(actor=request.user, endpoint=endpoint, active=False, kinds=endpoint.kinds)
    messages.success(request, _("The endpoint is paused: no event is sent to it until you resume it."))
    return redirect(_endpoint_url(endpoint, "settings"))


@portal_user_required
@require_POST
def webhook_resume(request, pk):
    endpoint = _endpoint_or_404(request.user, pk)
    webhook_endpoint_update(actor=request.user, endpoint=endpoint, active=True, kinds=endpoint.kinds)
    messages.success(
        request,
        _(
            "The endpoint is active again. Events of the pause were not sent to it: replay them from the "
            "log, or read them from the events API."
        ),
    )
    return redirect(_endpoint_url(endpoint, "settings"))


@portal_user_required
def webhook_rotate_secret(request, pk):
    """Confirm (GET), then give the endpoint a new signing secret (POST)."""
    endpoint = _endpoint_or_404(request.user, pk)
    if request.method == "POST":
        webhook_endpoint_rotate_secret(actor=request.user, endpoint=endpoint)
        messages.success(
            request,
            _(
                "The endpoint has a new signing secret; the old one signs nothing any more. "
                "Put it in your system."
            ),
        )
        return redirect(_endpoint_url(endpoint, "secret"))
    return render(request, "portal/webhooks/confirm.html", {"endpoint": endpoint, "action": "rotate"})


@portal_user_required
def webhook_delete(request, pk):
    """Confirm (GET), then remove the endpoint and its delivery log (POST)."""
    endpoint = _endpoint_or_404(request.user, pk)
    if request.method == "POST":
        url = endpoint.url
        webhook_endpoint_delete(actor=request.user, endpoint=endpoint)
        messages.success(request, _("The endpoint %(url)s is removed.") % {"url": url})
        return redirect("portal:webhook-list")
    return render(request, "portal/webhooks/confirm.html", {"endpoint": endpoint, "action": "delete"})


@portal_user_required
@require_POST
def webhook_replay(request, pk, delivery_pk):
    """Send a delivery's event again to the endpoint, as a new delivery; back to the log."""
    endpoint = _endpoint_or_404(request.user, pk)
    delivery = _deliveries(request.user, endpoint).filter(pk=delivery_pk).first()
    if delivery is None:
        raise Http404(_("There is no such delivery."))
    try:
        replay = webhook_delivery_replay(actor=request.user, delivery=delivery)
    except WebhookNotAllowed as refused:
        messages.error(request, str(refused))
        return redirect(_endpoint_url(endpoint, "deliveries"))
    messages.success(
        request,
        _("The event %(kind)s of %(reference)s is sent again, as delivery %(delivery)s.")
        % {
            "kind": EVENT_KINDS.get(delivery.event.kind, delivery.event.kind),
            "reference": delivery.event.subject_reference or "—",
            "delivery": replay.pk,
        },
    )
    return redirect(_endpoint_url(endpoint, "deliveries"))

"""The release order: printed once released, with a QR code whose text the gate checks."""

import pytest
from django.urls import reverse

from declarations.models import DeclarationPrint
from declarations.services.control import declaration_lane_assign
from declarations.services.drafts import declaration_create
from declarations.services.lifecycle import declaration_lodge, declaration_mark_paid
from declarations.services.printing import PrintNotAvailable, release_order_verify, release_token
from tests.declarations.conftest import declaration_data


def _released(world, lrn="REL-1"):
    trader = world["users"]["trader_a"]
    lodged = declaration_lodge(
        actor=trader, declaration=declaration_create(actor=trader, data=declaration_data(lrn=lrn))
    )
    declaration_lane_assign(declaration_id=lodged.pk, lane="green")
    lodged.refresh_from_db()
    return declaration_mark_paid(actor=None, declaration=lodged)


def test_payment_of_a_green_declaration_releases_it_and_sends_the_release_order(
    world, django_capture_on_commit_callbacks, monkeypatch
):
    sent = []
    from customs.celery import app

    monkeypatch.setattr(
        app, "send_task", lambda name, args=(), kwargs=None, **options: sent.append((name, args))
    )
    with django_capture_on_commit_callbacks(execute=True):
        released = _released(world)

    assert released.status == "released"
    assert ("declarations.issue_release_order", (released.pk,)) in sent


def test_the_release_order_token_is_genuine_and_a_changed_one_is_not(world):
    released = _released(world)
    token = release_token(released)

    genuine = release_order_verify(token)
    forged = release_order_verify(token.replace("|1|", "|9|"))
    garbage = release_order_verify("hello")

    assert token.startswith(f"KERWEN-RELEASE|{released.number}|")
    assert (genuine["genuine"], genuine["declaration"]) == (True, released)
    assert (forged["genuine"], forged["reason"]) == (False, "forged")
    assert (garbage["genuine"], garbage["reason"]) == (False, "malformed")


def test_a_release_order_is_refused_before_release(world):
    from declarations.services.printing import declaration_print_request

    trader = world["users"]["trader_a"]
    lodged = declaration_lodge(
        actor=trader, declaration=declaration_create(actor=trader, data=declaration_data())
    )

    with pytest.raises(PrintNotAvailable):
        declaration_print_request(
            actor=trader, declaration=lodged, kind=DeclarationPrint.Kind.RELEASE_ORDER, language="en"
        )

    assert not DeclarationPrint.objects.exists()


def test_the_gate_page_says_genuine_or_not(client, verified_login, world):
    released = _released(world)
    verified_login(client, world["users"]["officer"])

    token = release_token(released)
    changed = token[:-1] + ("1" if token[-1] != "1" else "2")  # one character of the check code

    genuine = client.get(reverse("declarations:release-check"), {"token": token})
    forged = client.get(reverse("declarations:release-check"), {"token": changed})

    assert genuine.status_code == 200
    assert genuine.context["result"]["genuine"] is True
    assert "GENUINE: the goods are released." in genuine.content.decode()
    assert forged.context["result"]["reason"] == "forged"
    assert "NOT GENUINE" in forged.content.decode()


def test_the_gate_page_is_for_officers_only(client, verified_login, world):
    verified_login(client, world["users"]["trader_a"])

    response = client.get(reverse("declarations:release-check"), {"token": "x"})

    assert response.status_code == 403

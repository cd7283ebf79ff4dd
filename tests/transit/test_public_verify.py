"""The public verify page (/verify/): a genuine token is authentic, with the signed data and the live status
label only; a token with one character changed, or anything else, is not authentic, with the reason; the
page needs no sign-in and writes nothing."""

import re

import pytest
from django.urls import reverse
from django.utils import timezone

from tests.transit.conftest import t1_data
from transit.models import TransitMovement
from transit.services.documents import movement_data
from transit.services.lifecycle import transit_cancel, transit_lodge, transit_release
from transit.signing import TokenInvalid, claims_from_transit, token_invalid_message, token_sign
from transit.verify import TokenInvalid as VerifyTokenInvalid

URL = "/verify/"


def _html(response) -> str:
    return response.content.decode()


def _text(fragment: str) -> str:
    return " ".join(re.sub(r"<[^>]+>", " ", fragment).split())


def _field(html: str, element_id: str) -> str:
    match = re.search(r'id="' + re.escape(element_id) + r'"[^>]*>(.*?)</(?:dd|p|span)>', html, re.S)
    assert match, f"no element #{element_id}"
    return _text(match.group(1))


@pytest.fixture
def keys_dir(settings, tmp_path):
    settings.TRANSIT_SIGNING_KEYS_DIR = tmp_path / "transit-keys"
    return settings.TRANSIT_SIGNING_KEYS_DIR


@pytest.fixture
def released(transit_world, keys_dir):
    """Trader A's T1, released at Ashgabat, and the token its TAD's QR code holds."""
    users = transit_world["users"]
    movement = transit_lodge(actor=users["trader_a"], data=t1_data())
    movement = transit_release(actor=users["departure_officer"], movement=movement)
    movement = TransitMovement.objects.get(pk=movement.pk)
    token = token_sign(claims_from_transit(movement_data(movement)))
    return {**transit_world, "movement": movement, "token": token}


def _altered(token: str) -> str:
    """``token`` with one character of its signature changed (in the middle: every bit of it counts)."""
    header, payload, signature = token.split(".")
    middle = len(signature) // 2
    replacement = "A" if signature[middle] != "A" else "B"
    return ".".join([header, payload, signature[:middle] + replacement + signature[middle + 1 :]])


@pytest.mark.django_db
def test_the_reverse_of_the_page_is_verify():
    assert reverse("transit-public:verify") == URL


@pytest.mark.django_db
def test_without_a_token_the_page_shows_the_form_only(client):
    response = client.get(URL)

    html = _html(response)
    assert response.status_code == 200
    assert '<label for="id_token">Text of the QR code</label>' in html
    assert 'id="verify-result"' not in html


@pytest.mark.django_db
def test_a_genuine_token_is_authentic_with_its_signed_data_and_the_live_status(
    client, released, django_assert_num_queries
):
    movement = released["movement"]

    with django_assert_num_queries(1):  # the live status; nothing written
        response = client.get(URL, {"token": released["token"]})

    html = _html(response)
    assert response.status_code == 200
    assert response["Cache-Control"] == "no-store"
    assert response["Referrer-Policy"] == "no-referrer"
    assert 'data-authentic="yes"' in html
    assert _field(html, "verify-verdict") == "Authentic"
    assert _field(html, "verify-mrn") == movement.mrn
    assert _field(html, "verify-departure") == "TMA01"
    assert _field(html, "verify-transit") == "TMF01"
    assert _field(html, "verify-destination") == "TMT01"
    assert _field(html, "verify-principal") == "101012345678"
    assert _field(html, "verify-plate") == "AG 1234 TM"
    assert _field(html, "verify-seals") == "TM-S-0001, TM-S-0002"
    assert _field(html, "verify-items") == "1"
    assert _field(html, "verify-gross-mass") == "1,200"
    assert _field(html, "verify-guarantee") == "GRN-0001"
    assert f'<time datetime="{movement.time_limit.isoformat()}">' in html
    issued = timezone.localtime(movement.released_at).replace(microsecond=0)
    assert f'datetime="{issued.isoformat()}"' in html
    assert _field(html, "verify-live-status") == "Released for transit"


@pytest.mark.django_db
def test_the_page_shows_nothing_of_the_movement_beyond_the_token_and_the_status_label(client, released):
    html = _html(client.get(URL, {"token": released["token"]}))

    movement = released["movement"]
    for private in (
        "Altyn Asyr HJ",  # the principal's name
        "Ak Ýol Logistics",  # the carrier
        "Passenger car",  # the goods
        "MSCU1234565",  # the container
        movement.lrn,
        str(movement.amount_at_stake),
        f"{movement.amount_at_stake:,.2f}",
        "10,000",
        f"/portal/transit/{movement.pk}/",
        f"/office/transit/{movement.pk}/",
    ):
        assert private not in html, private


@pytest.mark.django_db
def test_the_live_status_follows_the_movement(client, released):
    transit_cancel(
        actor=released["users"]["departure_officer"], movement=released["movement"], reason="Goods stayed"
    )

    html = _html(client.get(URL, {"token": released["token"]}))

    assert _field(html, "verify-verdict") == "Authentic"
    assert _field(html, "verify-live-status") == "Cancelled"


@pytest.mark.django_db
def test_an_authentic_token_of_a_movement_unknown_here_says_only_the_signature_was_checked(client, keys_dir):
    data = t1_data()
    data.mrn = "26TMTMA010000014J9"
    data.issued_at = timezone.now()
    token = token_sign(claims_from_transit(data))

    html = _html(client.get(URL, {"token": token}))

    assert _field(html, "verify-verdict") == "Authentic"
    assert _field(html, "verify-mrn") == "26TMTMA010000014J9"
    assert 'id="verify-live-status-unknown"' in html
    assert 'id="verify-live-status"' not in html


@pytest.mark.django_db
def test_a_token_with_one_character_changed_is_not_authentic_with_the_reason(
    client, released, django_assert_num_queries
):
    forged = _altered(released["token"])

    with django_assert_num_queries(0):
        response = client.get(URL, {"token": forged})

    html = _html(response)
    assert response.status_code == 200
    assert 'data-authentic="no"' in html
    assert _field(html, "verify-verdict") == "Not authentic"
    assert _field(html, "verify-reason") == token_invalid_message(
        VerifyTokenInvalid(TokenInvalid.BAD_SIGNATURE)
    )
    assert _field(html, "verify-reason") == (
        "The signature does not match the data: the token was altered or forged."
    )
    assert released["movement"].mrn not in html
    assert 'id="verify-live-status"' not in html


@pytest.mark.django_db
def test_altered_data_under_the_genuine_signature_is_not_authentic(client, released):
    import base64
    import json

    header, payload, signature = released["token"].split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    claims["pla"] = "AG 9999 TM"
    forged_payload = base64.urlsafe_b64encode(json.dumps(claims).encode()).decode().rstrip("=")

    html = _html(client.get(URL, {"token": f"{header}.{forged_payload}.{signature}"}))

    assert _field(html, "verify-verdict") == "Not authentic"
    assert "AG 9999 TM" not in html


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("garbage", "reason"),
    [
        ("hello", "This is not a transit document token, or it was read incompletely."),
        ("a.b.c", "This is not a transit document token, or it was read incompletely."),
        (
            "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJtcm4iOiJ4IiwiaWF0IjoxfQ.c2lnbmF0dXJl",
            "This token is not signed the way the customs service signs.",
        ),
    ],
)
def test_garbage_is_not_authentic(client, keys_dir, garbage, reason, django_assert_num_queries):
    with django_assert_num_queries(0):
        response = client.get(URL, {"token": garbage})

    html = _html(response)
    assert _field(html, "verify-verdict") == "Not authentic"
    assert _field(html, "verify-reason") == reason


@pytest.mark.django_db
def test_an_empty_or_overlong_token_is_a_form_error(client, keys_dir):
    empty = _html(client.get(URL, {"token": "   "}))
    overlong = _html(client.get(URL, {"token": "x" * 2001}))

    assert "This field is required." in empty
    assert "Ensure this value has at most 2000 characters" in overlong
    assert 'id="verify-result"' not in empty + overlong


@pytest.mark.django_db
def test_a_scanned_token_with_line_breaks_or_a_pasted_address_is_read(client, released):
    token = released["token"]
    broken = f"{token[:50]}\n{token[50:120]}\r\n{token[120:]}\n"
    address = f"https://kerwen.example/verify/?token={token}"

    scanned = _html(client.get(URL, {"token": broken}))
    pasted = _html(client.get(URL, {"token": address}))

    assert _field(scanned, "verify-verdict") == "Authentic"
    assert _field(pasted, "verify-verdict") == "Authentic"


@pytest.mark.django_db
def test_the_page_needs_no_sign_in_and_sets_no_session(client, released):
    response = client.get(URL, {"token": released["token"]})

    assert response.status_code == 200
    assert "sessionid" not in response.cookies
    assert 'id="logout-button"' not in _html(response)


@pytest.mark.django_db
def test_only_get_and_head_are_answered(client, keys_dir):
    assert client.post(URL, {"token": "x"}).status_code == 405
    assert client.head(URL).status_code == 200

"""The transit API (/api/v1/transit/): the finder and a movement in full, lodging as JSON (with
Idempotency-Key) and as a CC015C message, each command with its refusals, the CC015C export, and the
public check of a TAD's token. A refused request changes nothing."""

import dataclasses
import datetime
import json
from pathlib import Path

import pytest
from django.utils import timezone
from lxml import etree
from rest_framework.fields import DateTimeField
from rest_framework.test import APIClient

from customs.models import AuditEvent
from declarations.models import IdempotencyKey
from payments.choices import ReservationStatus
from payments.models import GuaranteeReservation
from payments.services.guarantees import guarantee_available, guarantee_create
from tests.transit.conftest import D, t1_data
from transit.data import PartyData
from transit.models import ArrivalControl, TadPrint, TransitMovement, TransitOffice, TransitStatusChange
from transit.mrn import mrn_check_character, mrn_valid
from transit.services.documents import movement_data, tad_reprint_request
from transit.services.lifecycle import transit_arrival, transit_border_passage, transit_lodge, transit_release
from transit.signing import claims_from_transit, token_sign
from transit.xml.cc015c import cc015c_read, cc015c_validate, cc015c_write

pytestmark = pytest.mark.django_db
URL = "/api/v1/transit/"
MOVEMENTS = URL + "movements/"
SAMPLES = Path(__file__).parent / "data" / "ncts-p5"
CAR_CODE = "8703231900"


def t1_json(**overrides) -> dict:
    """``t1_data()`` as the JSON a client sends (decimal strings, ISO dates)."""
    return json.loads(json.dumps(dataclasses.asdict(t1_data(**overrides)), default=str))


def client_of(world, who: str) -> APIClient:
    client = APIClient()
    if who != "anonymous":
        client.force_authenticate(world["users"][who])
    return client


def lodged(world, **overrides) -> TransitMovement:
    return transit_lodge(actor=world["users"]["trader_a"], data=t1_data(**overrides))


def released(world, **overrides) -> TransitMovement:
    return transit_release(actor=world["users"]["departure_officer"], movement=lodged(world, **overrides))


def when(value) -> str | None:
    return None if value is None else DateTimeField().to_representation(value)


def state() -> dict:
    """Everything a transit request may write."""
    return {
        "movements": list(
            TransitMovement.objects.order_by("pk").values_list(
                "pk", "status", "version", "mrn", "reservation_id"
            )
        ),
        "passages": list(TransitOffice.objects.order_by("pk").values_list("pk", "passed_at")),
        "status_changes": TransitStatusChange.objects.count(),
        "arrival_controls": ArrivalControl.objects.count(),
        "prints": TadPrint.objects.count(),
        "reservations": list(
            GuaranteeReservation.objects.order_by("pk").values_list("pk", "status", "amount")
        ),
        "audit_events": AuditEvent.objects.count(),
        "idempotency_keys": IdempotencyKey.objects.count(),
    }


def fields_of(response) -> dict:
    """The envelope's field errors as {path: [code, ...]}."""
    return {
        path: [error["code"] for error in errors]
        for path, errors in response.json()["error"]["fields"].items()
    }


# --- Lodging ---------------------------------------------------------------------------------------------


def test_a_principal_lodges_a_t1_as_json_and_gets_it_back_registered(transit_world):
    api = client_of(transit_world, "trader_a")

    response = api.post(MOVEMENTS, t1_json(), format="json")

    assert response.status_code == 201, response.content
    movement = TransitMovement.objects.get()
    body = response.json()
    assert response["ETag"] == f'"{movement.pk}-1"'
    assert (body["id"], body["lrn"], body["mrn"], body["status"], body["status_label"]) == (
        movement.pk,
        "T1-0001",
        None,
        "registered",
        "Registered",
    )
    assert body["items"] == [
        {
            "number": 1,
            "commodity_code": "8703231900",
            "description": "Passenger car, petrol, 1,500 cc",
            "packages_number": 1,
            "package_kind": "PK",
            "gross_mass": "1200.000000",
            "net_mass": "1100.000000",
            "value": "10000.00",
            "currency": "USD",
        }
    ]
    assert [stop["office"]["code"] for stop in body["route"]] == ["TMF01"]
    assert (body["amount_at_stake"], body["stake_lines"], body["allowed_actions"]) == (None, [], [])
    assert movement.created_by == transit_world["users"]["trader_a"]
    assert movement.seals == ["TM-S-0001", "TM-S-0002"]


def test_a_broker_authorised_for_transit_lodges_for_the_principal(transit_world):
    from customs.models import BrokerAuthorisation

    BrokerAuthorisation.objects.filter(broker=transit_world["broker"]).update(scope=["import", "transit"])

    response = client_of(transit_world, "broker").post(MOVEMENTS, t1_json(), format="json")

    assert response.status_code == 201, response.content
    assert TransitMovement.objects.get().principal == transit_world["trader_a"]


def test_input_that_is_not_well_formed_is_refused_by_field_path_and_nothing_is_written(transit_world):
    data = t1_json()
    data["items"][0]["gross_mass"] = "heavy"
    data["items"][0]["packages_number"] = -1
    data["seals"] = ["TM-S-0001", "S" * 36]
    data["time_limit"] = "next week"
    data["principal"]["country"] = "TKM"
    before = state()

    response = client_of(transit_world, "trader_a").post(MOVEMENTS, data, format="json")

    assert response.status_code == 400
    assert response.json()["error"]["code"] == "validation_error"
    assert fields_of(response) == {
        "principal.country": ["max_length"],
        "seals[1]": ["max_length"],
        "time_limit": ["invalid"],
        "items[0].packages_number": ["min_value"],
        "items[0].gross_mass": ["invalid"],
    }
    assert state() == before


def test_every_problem_the_service_finds_is_listed_by_field_path_and_nothing_is_written(transit_world):
    data = t1_json(
        departure_office="XX999", seals=["TM-S-1", " "], guarantee_reference="NOPE", time_limit=None
    )
    data["items"][0]["commodity_code"] = "99999999"
    data["items"][0]["gross_mass"] = "0"
    data["items"].append(
        {**data["items"][0], "commodity_code": CAR_CODE, "gross_mass": "10", "net_mass": "50"}
    )
    before = state()

    response = client_of(transit_world, "trader_a").post(MOVEMENTS, data, format="json")

    assert response.status_code == 400
    assert response.json()["error"]["fields"] == {
        "departure_office": [{"code": "unknown_code", "message": "There is no customs office XX999."}],
        "seals[1]": [{"code": "required", "message": "A seal needs its identity."}],
        "time_limit": [{"code": "required", "message": "Give the time limit."}],
        "guarantee_reference": [{"code": "unknown_guarantee", "message": "There is no such guarantee."}],
        "items[0].commodity_code": [
            {"code": "unknown_code", "message": "No tariff line in force starts with 99999999."}
        ],
        "items[0].gross_mass": [{"code": "invalid", "message": "The gross mass must be above zero."}],
        "items[1].net_mass": [
            {"code": "net_mass_exceeds_gross", "message": "The net mass exceeds the gross mass."}
        ],
    }
    assert state() == before


def test_a_retried_lodgement_with_the_same_idempotency_key_lodges_once(transit_world):
    api = client_of(transit_world, "trader_a")

    first = api.post(MOVEMENTS, t1_json(), format="json", HTTP_IDEMPOTENCY_KEY="t1-0001")
    second = api.post(MOVEMENTS, t1_json(), format="json", HTTP_IDEMPOTENCY_KEY="t1-0001")
    before = state()
    other = api.post(MOVEMENTS, t1_json(lrn="T1-0002"), format="json", HTTP_IDEMPOTENCY_KEY="t1-0001")

    assert first.status_code == second.status_code == 201
    assert second.json() == first.json()
    assert second["Idempotent-Replay"] == "true"
    assert TransitMovement.objects.count() == 1
    assert other.status_code == 409
    assert other.json()["error"] == {
        "code": "idempotency_key_reused",
        "message": "This Idempotency-Key was used for a different request.",
    }
    assert state() == before


def test_a_lodgement_refused_with_an_idempotency_key_may_be_retried_corrected(transit_world):
    api = client_of(transit_world, "trader_a")

    refused = api.post(
        MOVEMENTS, t1_json(guarantee_reference="NOPE"), format="json", HTTP_IDEMPOTENCY_KEY="k"
    )
    retried = api.post(MOVEMENTS, t1_json(), format="json", HTTP_IDEMPOTENCY_KEY="k")

    assert (refused.status_code, retried.status_code) == (400, 201)
    assert TransitMovement.objects.count() == 1


# --- Importing a CC015C message --------------------------------------------------------------------------


def cc015c_of(**overrides) -> bytes:
    return cc015c_write(
        t1_data(**overrides),
        message_sender="NEIGHBOUR",
        message_recipient="NTA.TM",
        prepared_at=timezone.localtime().replace(tzinfo=None),
    )


def test_a_cc015c_message_sent_as_the_body_is_lodged(transit_world):
    response = client_of(transit_world, "trader_a").post(
        MOVEMENTS + "import-cc015c/", cc015c_of(lrn="T1-IMPORTED"), content_type="application/xml"
    )

    assert response.status_code == 201, response.content
    movement = TransitMovement.objects.get()
    body = response.json()
    assert (body["lrn"], body["status"], body["departure_office"]["code"]) == (
        "T1-IMPORTED",
        "registered",
        "TMA01",
    )
    assert [stop["office"]["code"] for stop in body["route"]] == ["TMF01"]
    # CC015C has 8 digits of commodity code and no item value.
    assert [
        (item["commodity_code"], item["gross_mass"], item["value"], item["currency"])
        for item in body["items"]
    ] == [("87032319", "1200.000000", None, "")]
    assert (movement.transport_identity, movement.seals, movement.containers) == (
        "AG 1234 TM",
        ["TM-S-0001", "TM-S-0002"],
        ["MSCU1234565"],
    )


def test_a_cc015c_message_uploaded_as_a_file_is_lodged_once_with_an_idempotency_key(transit_world):
    from django.core.files.uploadedfile import SimpleUploadedFile

    api = client_of(transit_world, "trader_a")
    content = cc015c_of(lrn="T1-FILE")

    def upload():
        return api.post(
            MOVEMENTS + "import-cc015c/",
            {"file": SimpleUploadedFile("cc015c.xml", content, content_type="application/xml")},
            format="multipart",
            HTTP_IDEMPOTENCY_KEY="file-1",
        )

    first, second = upload(), upload()

    assert (first.status_code, second.status_code) == (201, 201)
    assert second.json() == first.json()
    assert TransitMovement.objects.get().lrn == "T1-FILE"


def test_an_imported_movement_cannot_be_released_until_its_items_have_values(transit_world):
    client_of(transit_world, "trader_a").post(
        MOVEMENTS + "import-cc015c/", cc015c_of(lrn="T1-IMPORTED"), content_type="application/xml"
    )
    movement = TransitMovement.objects.get()
    before = state()

    response = client_of(transit_world, "departure_officer").post(f"{MOVEMENTS}{movement.pk}/release/")

    assert response.status_code == 400
    assert response.json()["error"]["fields"] == {
        "items[0].value": [
            {"code": "required", "message": "The value and its currency are needed for the guarantee."}
        ]
    }
    assert state() == before


@pytest.mark.parametrize(
    ("sample", "problems"),
    [
        (
            "cc015c-invalid.xml",
            {
                "messageRecipient": [
                    {
                        "code": "schema",
                        "message": "Element 'messageRecipient': This element is not expected. Expected is "
                        "( messageSender ).",
                        "line": 2,
                    }
                ]
            },
        ),
        (
            "cc015c-invalid-message-sender.xml",
            {
                "messageSender": [
                    {
                        "code": "schema",
                        "message": "Element 'messageSender': [facet 'pattern'] The value '' is not "
                        "accepted by the pattern '.{1,35}'.",
                        "line": 2,
                    }
                ]
            },
        ),
        (
            "cc015c-invalid-lrn.xml",
            {
                "TransitOperation/LRN": [
                    {
                        "code": "lrn_format",
                        "message": "The LRN '{{LRN}}' is not valid: up to 22 letters, digits and . _ / -, "
                        "starting with a letter or a digit.",
                        "line": 8,
                    }
                ]
            },
        ),
        (
            "cc015c-invalid-reference-departure.xml",
            {
                "CustomsOfficeOfDeparture/referenceNumber": [
                    {
                        "code": "unknown_office_country",
                        "message": "The office reference number XB3KMA8M does not start with a known country "
                        "code (XB).",
                        "line": 16,
                    }
                ]
            },
        ),
    ],
)
def test_the_invalid_samples_are_refused_with_their_lines(transit_world, sample, problems):
    before = state()

    response = client_of(transit_world, "trader_a").post(
        MOVEMENTS + "import-cc015c/", (SAMPLES / sample).read_bytes(), content_type="application/xml"
    )

    assert response.status_code == 400
    assert response.json() == {
        "error": {"code": "validation_error", "message": "The CC015C message is refused.", "fields": problems}
    }
    assert state() == before


def test_a_valid_sample_is_read_then_refused_where_the_message_names_what_is_unknown_here(transit_world):
    """The sample is valid CC015C, but its offices, holder and guarantee are not of this service: the
    lodgement's problems are shown at their elements, with their lines."""
    before = state()

    response = client_of(transit_world, "trader_a").post(
        MOVEMENTS + "import-cc015c/", (SAMPLES / "cc015c-valid-2.xml").read_bytes(), content_type="text/xml"
    )

    assert response.status_code == 400
    assert {
        path: [(error["code"], error["line"]) for error in errors]
        for path, errors in response.json()["error"]["fields"].items()
    } == {
        "CustomsOfficeOfDeparture/referenceNumber": [("unknown_code", 28)],
        "CustomsOfficeOfDestinationDeclared/referenceNumber": [("unknown_code", 31)],
        "CustomsOfficeOfTransitDeclared[1]/referenceNumber": [("unknown_code", 35)],
        "HolderOfTheTransitProcedure/identificationNumber": [("unknown_party", 39)],
        "Consignment/DepartureTransportMeans/identificationNumber": [("required", 66)],
        "TransitOperation/limitDate": [("out_of_range", 20)],
        "Guarantee": [("unknown_guarantee", 55)],
        "Consignment/HouseConsignment[1]/ConsignmentItem[1]/Commodity/CommodityCode": [("unknown_code", 153)],
        "Consignment/HouseConsignment[1]/ConsignmentItem[1]/Packaging/typeOfPackages": [
            ("unknown_code", 167)
        ],
    }
    assert state() == before


def test_an_empty_import_or_one_that_is_not_xml_is_refused(transit_world):
    api = client_of(transit_world, "trader_a")

    empty = api.post(MOVEMENTS + "import-cc015c/", b"", content_type="application/xml")
    as_json = api.post(MOVEMENTS + "import-cc015c/", {"xml": "<CC015C/>"}, format="json")
    broken = api.post(MOVEMENTS + "import-cc015c/", b"<ncts:CC015C", content_type="application/xml")

    assert (empty.status_code, fields_of(empty)) == (400, {"file": ["required"]})
    assert (as_json.status_code, as_json.json()["error"]["code"]) == (415, "unsupported_media_type")
    assert (broken.status_code, fields_of(broken)) == (400, {"non_field_errors": ["not_well_formed"]})
    assert not TransitMovement.objects.exists()


# --- The finder and a movement in full ---------------------------------------------------------------------


@pytest.fixture
def three(transit_world):
    """T1-0001 released (plate AG 1234 TM), T1-0002 registered (plate LB 7777 KZ), T1-0003 registered
    ten days ago (before the time limits would allow: written directly)."""
    first = released(transit_world)
    second = lodged(transit_world, lrn="T1-0002", transport_identity="LB 7777 KZ")
    third = lodged(transit_world, lrn="T1-0003")
    TransitMovement.objects.filter(pk=third.pk).update(
        registered_at=timezone.now() - datetime.timedelta(days=10)
    )
    return first, second, third


def _ids(response) -> list[int]:
    assert response.status_code == 200, response.content
    return [row["id"] for row in response.json()["results"]]


def test_the_finder_filters_by_office_principal_plate_status_mrn_and_dates(transit_world, three):
    first, second, third = three
    api = client_of(transit_world, "departure_officer")
    today = timezone.localdate()

    assert _ids(api.get(MOVEMENTS)) == [second.pk, first.pk, third.pk]
    assert _ids(api.get(MOVEMENTS, {"status": "released"})) == [first.pk]
    assert _ids(api.get(MOVEMENTS, {"plate": "7777"})) == [second.pk]
    assert _ids(api.get(MOVEMENTS, {"principal": "altyn"})) == [second.pk, first.pk, third.pk]
    assert _ids(api.get(MOVEMENTS, {"principal": "101098765432"})) == []
    assert _ids(api.get(MOVEMENTS, {"office": "tmf01"})) == [second.pk, first.pk, third.pk]
    assert _ids(api.get(MOVEMENTS, {"office": "TMZ99"})) == []
    assert _ids(api.get(MOVEMENTS, {"mrn": first.mrn.lower()})) == [first.pk]
    assert _ids(api.get(MOVEMENTS, {"date_from": today.isoformat()})) == [second.pk, first.pk]
    assert _ids(api.get(MOVEMENTS, {"date_to": (today - datetime.timedelta(days=1)).isoformat()})) == [
        third.pk
    ]


def test_the_finder_lists_rows_as_decimal_strings_in_pages(transit_world, three):
    first = three[0]

    body = client_of(transit_world, "trader_a").get(MOVEMENTS, {"status": "released"}).json()

    assert (body["count"], body["next"], body["previous"]) == (1, None, None)
    assert body["results"] == [
        {
            "id": first.pk,
            "lrn": "T1-0001",
            "mrn": first.mrn,
            "declaration_type": "T1",
            "status": "released",
            "status_label": "Released for transit",
            "departure_office": {"code": "TMA01", "name": "Ashgabat"},
            "destination_office": {"code": "TMT01", "name": "Türkmenbaşy port"},
            "principal": {"taxpayer_id": "101012345678", "name": "Altyn Asyr HJ"},
            "transport_identity": "AG 1234 TM",
            "time_limit": first.time_limit.isoformat(),
            "guarantee_reference": "GRN-0001",
            "amount_at_stake": str(first.amount_at_stake),
            "registered_at": when(first.registered_at),
            "released_at": when(first.released_at),
            "version": 2,
        }
    ]


def test_the_finder_makes_the_same_queries_for_one_movement_or_many(transit_world, django_assert_num_queries):
    from customs.models import User

    def listed() -> list[int]:
        api = APIClient()
        api.force_authenticate(User.objects.get(username="departure_officer"))
        with django_assert_num_queries(4):  # the user's roles, its offices, the count, the page
            return _ids(api.get(MOVEMENTS))

    lodged(transit_world)
    assert len(listed()) == 1
    for number in range(2, 6):
        lodged(transit_world, lrn=f"T1-000{number}")
    assert len(listed()) == 5


def test_the_finder_refuses_bad_filters(transit_world, three):
    api = client_of(transit_world, "departure_officer")
    first = three[0]
    wrong_check = first.mrn[:17] + str((int(first.mrn[17]) + 1) % 10)

    response = api.get(MOVEMENTS, {"status": "lost", "mrn": wrong_check, "date_from": "yesterday"})

    assert response.status_code == 400
    assert fields_of(response) == {
        "status": ["invalid_choice"],
        "mrn": ["invalid_mrn"],
        "date_from": ["invalid"],
    }


def test_a_movement_in_full(transit_world):
    world = transit_world
    movement = lodged(
        world,
        consignee=PartyData(identification="KZ123", name="Almaty Trade", city="Almaty", country="KZ"),
        previous_document="TMA01 2026 E 42",
    )
    movement = transit_release(actor=world["users"]["departure_officer"], movement=movement)
    transit_border_passage(
        actor=world["users"]["border_officer"], movement=movement, office=world["border_office"]
    )
    transit_arrival(
        actor=world["users"]["destination_officer"],
        movement=movement,
        seals_intact=False,
        goods_conform=True,
        seals_found=["TM-S-0001"],
        discrepancies="Seal TM-S-0002 missing",
    )
    reprint = tad_reprint_request(actor=world["users"]["departure_officer"], movement=movement, language="ru")
    movement = TransitMovement.objects.get(pk=movement.pk)
    stop = movement.transit_offices.get()
    control = movement.arrival_control
    changes = list(movement.status_changes.order_by("occurred_at", "pk"))

    response = client_of(world, "destination_officer").get(f"{MOVEMENTS}{movement.pk}/")

    assert response.status_code == 200
    assert response["ETag"] == f'"{movement.pk}-5"'
    assert response.json() == {
        "id": movement.pk,
        "lrn": "T1-0001",
        "mrn": movement.mrn,
        "declaration_type": "T1",
        "status": "under_enquiry",
        "status_label": "Under enquiry",
        "departure_office": {"code": "TMA01", "name": "Ashgabat"},
        "destination_office": {"code": "TMT01", "name": "Türkmenbaşy port"},
        "principal": {"taxpayer_id": "101012345678", "name": "Altyn Asyr HJ"},
        "transport_identity": "AG 1234 TM",
        "time_limit": movement.time_limit.isoformat(),
        "guarantee_reference": "GRN-0001",
        "amount_at_stake": "11488.75",
        "registered_at": when(movement.registered_at),
        "released_at": when(movement.released_at),
        "version": 5,
        "route": [
            {
                "sequence": 1,
                "office": {"code": "TMF01", "name": "Farap"},
                "passed_at": when(stop.passed_at),
                "passed_by": "border_officer",
            }
        ],
        "itinerary": ["TM"],
        "carrier": {"identification": "CARR-1", "name": "Ak Ýol Logistics"},
        "parties": {
            "consignee": {
                "identification": "KZ123",
                "name": "Almaty Trade",
                "street": "",
                "city": "Almaty",
                "postcode": "",
                "country": "KZ",
            }
        },
        "transport_nationality": "TM",
        "containers": ["MSCU1234565"],
        "seals": ["TM-S-0001", "TM-S-0002"],
        "previous_document": "TMA01 2026 E 42",
        "amount_at_stake_currency": "TMT",
        "stake_lines": [
            {
                "item": 1,
                "commodity_code": "8703231900",
                "customs_value": "35000.00",
                "amount": "11488.75",
                "taxes": [
                    {
                        "tax": "import_duty",
                        "base": "35000.00",
                        "rate": "10% MIN 100 EUR / item",
                        "amount": "3500.00",
                    },
                    {"tax": "excise", "base": "38500.00", "rate": "5%", "amount": "1925.00"},
                    {"tax": "vat", "base": "40425.00", "rate": "15%", "amount": "6063.75"},
                ],
                "lines_considered": 1,
            }
        ],
        "items": [
            {
                "number": 1,
                "commodity_code": "8703231900",
                "description": "Passenger car, petrol, 1,500 cc",
                "packages_number": 1,
                "package_kind": "PK",
                "gross_mass": "1200.000000",
                "net_mass": "1100.000000",
                "value": "10000.00",
                "currency": "USD",
            }
        ],
        "total_packages": 1,
        "total_gross_mass": "1200.000000",
        "arrived_at": when(movement.arrived_at),
        "overdue_at": None,
        "closed_at": None,
        "history": [
            {
                "action": change.action,
                "from_status": change.from_status,
                "to_status": change.to_status,
                "office": office,
                "actor": actor,
                "reason": reason,
                "occurred_at": when(change.occurred_at),
            }
            for change, office, actor, reason in zip(
                changes,
                ["TMA01", "TMA01", "TMF01", "TMT01", "TMT01"],
                [
                    "trader_a",
                    "departure_officer",
                    "border_officer",
                    "destination_officer",
                    "destination_officer",
                ],
                ["", "", "", "", "Seal TM-S-0002 missing"],
                strict=True,
            )
        ],
        "arrival_control": {
            "seals_intact": False,
            "seals_found": ["TM-S-0001"],
            "goods_conform": True,
            "conform": False,
            "discrepancies": "Seal TM-S-0002 missing",
            "recorded_by": "destination_officer",
            "recorded_at": when(control.recorded_at),
        },
        "tad": {
            "original": f"http://testserver/documents/transit/{movement.pk}/tad/",
            "prints": [
                {
                    "id": reprint.pk,
                    "language": "ru",
                    "duplicate": True,
                    "status": "pending",
                    "requested_at": when(reprint.requested_at),
                    "rendered_at": None,
                    "url": f"http://testserver/documents/transit/{movement.pk}/tad/{reprint.pk}/",
                }
            ],
        },
        "allowed_actions": ["discharge"],
    }
    assert [change.action for change in changes] == ["lodge", "release", "pass_border", "arrive", "enquire"]


# --- Commands ----------------------------------------------------------------------------------------------


def test_release_gives_the_mrn_and_reserves_the_amount_at_stake(transit_world):
    movement = lodged(transit_world)
    api = client_of(transit_world, "departure_officer")

    response = api.post(f"{MOVEMENTS}{movement.pk}/release/", HTTP_IF_MATCH=f'"{movement.pk}-1"')

    assert response.status_code == 200, response.content
    body = response.json()
    assert body["status"] == "released" and mrn_valid(body["mrn"])
    assert (body["amount_at_stake"], body["amount_at_stake_currency"]) == ("11488.75", "TMT")
    assert response["ETag"] == f'"{movement.pk}-2"'
    assert guarantee_available(transit_world["guarantee"]) == D("100000.00") - D("11488.75")
    assert body["allowed_actions"] == ["cancel", "tad_reprint"]


def test_a_command_with_a_stale_or_foreign_if_match_is_refused_with_412_and_changes_nothing(transit_world):
    movement = lodged(transit_world)
    other = lodged(transit_world, lrn="T1-0002")
    TransitMovement.objects.filter(pk=movement.pk).update(version=2)  # someone changed it meanwhile
    api = client_of(transit_world, "departure_officer")
    before = state()

    stale = api.post(f"{MOVEMENTS}{movement.pk}/release/", HTTP_IF_MATCH=f'"{movement.pk}-1"')
    foreign = api.post(f"{MOVEMENTS}{movement.pk}/release/", HTTP_IF_MATCH=f'"{other.pk}-2"')
    stale_cancel = api.post(
        f"{MOVEMENTS}{movement.pk}/cancel/",
        {"reason": "Typo"},
        format="json",
        HTTP_IF_MATCH=f'"{movement.pk}-1"',
    )

    assert stale.status_code == 412
    assert stale.json()["error"] == {
        "code": "stale_version",
        "message": "The movement was changed by someone else in the meantime (now version 2). Reload it and "
        "try again.",
    }
    assert (foreign.status_code, foreign.json()["error"]["code"]) == (412, "stale_version")
    assert (stale_cancel.status_code, stale_cancel.json()["error"]["code"]) == (412, "stale_version")
    assert state() == before
    assert (
        api.post(f"{MOVEMENTS}{movement.pk}/release/", HTTP_IF_MATCH=f'"{movement.pk}-2"').status_code == 200
    )


def test_a_release_the_guarantee_does_not_cover_is_refused_with_the_shortfall(transit_world):
    guarantee_create(
        actor=None,
        reference="GRN-SMALL",
        kind="individual",
        trader=transit_world["trader_a"],
        issuer=transit_world["bank"],
        amount=D("100.00"),
        valid_from=datetime.date(2020, 1, 1),
        valid_to=datetime.date(2099, 1, 1),
    )
    movement = lodged(transit_world, guarantee_reference="GRN-SMALL")
    before = state()

    response = client_of(transit_world, "departure_officer").post(f"{MOVEMENTS}{movement.pk}/release/")

    assert response.status_code == 409
    assert response.json() == {
        "error": {
            "code": "guarantee_insufficient",
            "message": "The guarantee GRN-SMALL does not cover the 11,488.75 at stake: short by 11,388.75.",
            "shortfall": "11388.75",
            "amount_at_stake": "11488.75",
        }
    }
    assert state() == before


def test_a_second_release_is_refused_as_not_allowed_in_the_state(transit_world):
    movement = released(transit_world)
    before = state()

    response = client_of(transit_world, "departure_officer").post(f"{MOVEMENTS}{movement.pk}/release/")

    assert response.status_code == 409
    assert response.json()["error"] == {
        "code": "transition_not_allowed",
        "message": "Release for transit is not possible: the movement is released for transit.",
    }
    assert state() == before


def test_the_border_office_records_the_passage_named_or_by_default(transit_world):
    first, second = released(transit_world), released(transit_world, lrn="T1-0002")
    api = client_of(transit_world, "border_officer")

    named = api.post(f"{MOVEMENTS}{first.pk}/border-passage/", {"office": "tmf01"}, format="json")
    by_default = api.post(f"{MOVEMENTS}{second.pk}/border-passage/")

    assert (named.status_code, by_default.status_code) == (200, 200)
    for response in (named, by_default):
        (stop,) = response.json()["route"]
        assert (response.json()["status"], stop["passed_by"]) == ("in_transit", "border_officer")
        assert stop["passed_at"] is not None
    before = state()
    again = api.post(f"{MOVEMENTS}{first.pk}/border-passage/", {"office": "TMF01"}, format="json")
    assert again.status_code == 409
    assert again.json()["error"] == {
        "code": "transition_not_allowed",
        "message": "The passage at TMF01 is recorded already.",
    }
    assert state() == before


def test_a_passage_at_an_office_off_the_route_is_refused(transit_world):
    movement = released(transit_world)
    before = state()

    response = client_of(transit_world, "departure_officer").post(
        f"{MOVEMENTS}{movement.pk}/border-passage/", {"office": "TMA01"}, format="json"
    )

    assert response.status_code == 409
    assert response.json()["error"] == {
        "code": "not_on_route",
        "message": "Office TMA01 is not an office of transit of this movement.",
    }
    assert state() == before


def test_a_border_passage_is_recorded_by_a_scanned_or_typed_mrn(transit_world):
    movement = released(transit_world)
    typed = " ".join([movement.mrn[:2], movement.mrn[2:4], movement.mrn[4:9], movement.mrn[9:]]).lower()

    response = client_of(transit_world, "border_officer").post(
        URL + "border-passages/", {"mrn": typed}, format="json"
    )

    assert response.status_code == 200, response.content
    assert (response.json()["id"], response.json()["status"]) == (movement.pk, "in_transit")
    assert TransitOffice.objects.get().passed_by == transit_world["users"]["border_officer"]


def test_an_mrn_with_a_wrong_check_character_is_refused_before_anything_is_looked_up(transit_world):
    movement = released(transit_world)
    wrong = movement.mrn[:17] + str((int(movement.mrn[17]) + 1) % 10)
    before = state()

    response = client_of(transit_world, "border_officer").post(
        URL + "border-passages/", {"mrn": wrong}, format="json"
    )

    assert response.status_code == 400
    assert response.json()["error"]["fields"] == {
        "mrn": [
            {
                "code": "invalid_mrn",
                "message": "This is not a valid MRN: 18 characters whose last one is the check character. "
                "Check what was typed or scanned.",
            }
        ]
    }
    assert state() == before


def test_a_passage_by_mrn_of_an_unknown_movement_or_at_an_office_off_the_route_is_refused(transit_world):
    movement = released(transit_world)
    unknown = "26TMTMA019999999J" + mrn_check_character("26TMTMA019999999J")
    before = state()

    not_found = client_of(transit_world, "border_officer").post(
        URL + "border-passages/", {"mrn": unknown}, format="json"
    )
    off_route = client_of(transit_world, "destination_officer").post(
        URL + "border-passages/", {"mrn": movement.mrn}, format="json"
    )

    assert (not_found.status_code, not_found.json()["error"]["code"]) == (404, "not_found")
    assert off_route.status_code == 409
    assert off_route.json()["error"] == {
        "code": "not_on_route",
        "message": "Office TMT01 is not an office of transit of this movement.",
    }
    assert state() == before


def test_a_conform_arrival_discharges_and_releases_the_guarantee(transit_world):
    movement = released(transit_world)

    response = client_of(transit_world, "destination_officer").post(
        f"{MOVEMENTS}{movement.pk}/arrival/", {"seals_intact": True, "goods_conform": True}, format="json"
    )

    assert response.status_code == 200, response.content
    body = response.json()
    assert (body["status"], body["arrival_control"]["conform"], body["allowed_actions"]) == (
        "discharged",
        True,
        [],
    )
    assert GuaranteeReservation.objects.get().status == ReservationStatus.RELEASED
    assert guarantee_available(transit_world["guarantee"]) == D("100000.00")


def test_an_arrival_with_discrepancies_needs_them_described_and_opens_an_enquiry(transit_world):
    movement = released(transit_world)
    api = client_of(transit_world, "destination_officer")
    url = f"{MOVEMENTS}{movement.pk}/arrival/"
    before = state()

    undescribed = api.post(url, {"seals_intact": False, "goods_conform": True}, format="json")
    missing = api.post(url, {"seals_found": ["TM-S-0001"]}, format="json")
    assert state() == before
    described = api.post(
        url,
        {
            "seals_intact": False,
            "goods_conform": True,
            "seals_found": ["TM-S-0001"],
            "discrepancies": "Seal TM-S-0002 missing",
        },
        format="json",
    )

    assert undescribed.status_code == 400
    assert undescribed.json()["error"]["fields"] == {
        "discrepancies": [{"code": "required", "message": "Describe the discrepancies."}]
    }
    assert (missing.status_code, fields_of(missing)) == (
        400,
        {"seals_intact": ["required"], "goods_conform": ["required"]},
    )
    assert described.status_code == 200
    assert (described.json()["status"], described.json()["arrival_control"]["seals_found"]) == (
        "under_enquiry",
        ["TM-S-0001"],
    )
    assert GuaranteeReservation.objects.get().status == ReservationStatus.OPEN


def test_discharge_ends_an_enquiry_and_releases_the_guarantee(transit_world):
    movement = released(transit_world)
    transit_arrival(
        actor=transit_world["users"]["destination_officer"],
        movement=movement,
        seals_intact=True,
        goods_conform=False,
        discrepancies="One package short",
    )

    response = client_of(transit_world, "destination_officer").post(
        f"{MOVEMENTS}{movement.pk}/discharge/", {"reason": "Package found in the cab"}, format="json"
    )

    assert response.status_code == 200, response.content
    assert response.json()["status"] == "discharged"
    assert response.json()["history"][-1]["reason"] == "Package found in the cab"
    assert GuaranteeReservation.objects.get().status == ReservationStatus.RELEASED


def test_cancel_needs_a_reason_and_releases_the_reservation(transit_world):
    movement = released(transit_world)
    api = client_of(transit_world, "departure_officer")
    before = state()

    no_reason = api.post(f"{MOVEMENTS}{movement.pk}/cancel/")
    assert state() == before
    cancelled = api.post(f"{MOVEMENTS}{movement.pk}/cancel/", {"reason": "Truck broke down"}, format="json")

    assert no_reason.status_code == 400
    assert no_reason.json()["error"]["fields"] == {
        "reason": [{"code": "required", "message": "Give the reason."}]
    }
    assert cancelled.status_code == 200
    assert (cancelled.json()["status"], cancelled.json()["closed_at"] is not None) == ("cancelled", True)
    assert guarantee_available(transit_world["guarantee"]) == D("100000.00")


def test_the_departure_office_reprints_the_tad_as_an_audited_duplicate(transit_world):
    movement = released(transit_world)
    events = AuditEvent.objects.count()

    response = client_of(transit_world, "departure_officer").post(
        f"{MOVEMENTS}{movement.pk}/tad/reprint/",
        {"language": "tk"},
        format="json",
        HTTP_IDEMPOTENCY_KEY="r-1",
    )
    again = client_of(transit_world, "departure_officer").post(
        f"{MOVEMENTS}{movement.pk}/tad/reprint/",
        {"language": "tk"},
        format="json",
        HTTP_IDEMPOTENCY_KEY="r-1",
    )

    document = TadPrint.objects.get()
    assert response.status_code == again.status_code == 201
    assert (
        response.json()
        == again.json()
        == {
            "id": document.pk,
            "language": "tk",
            "duplicate": True,
            "status": "pending",
            "requested_at": when(document.requested_at),
            "rendered_at": None,
            "url": f"http://testserver/documents/transit/{movement.pk}/tad/{document.pk}/",
        }
    )
    assert document.requested_by == transit_world["users"]["departure_officer"]
    assert AuditEvent.objects.count() == events + 1
    assert AuditEvent.objects.latest("pk").action == "transit.tad.reprinted"


def test_a_movement_not_released_has_no_tad_to_reprint_nor_cc015c_to_export(transit_world):
    movement = lodged(transit_world)
    api = client_of(transit_world, "departure_officer")
    before = state()

    reprint = api.post(f"{MOVEMENTS}{movement.pk}/tad/reprint/")
    export = api.get(f"{MOVEMENTS}{movement.pk}/cc015c/", HTTP_ACCEPT="application/xml")

    assert (reprint.status_code, reprint.json()["error"]["code"]) == (409, "not_released")
    assert (export.status_code, export["Content-Type"]) == (409, "application/json")
    assert export.json()["error"] == {
        "code": "not_released",
        "message": "Only a released movement can be exported as CC015C.",
    }
    assert state() == before


# --- CC015C export -------------------------------------------------------------------------------------


def test_a_released_movement_is_exported_as_a_cc015c_that_validates(transit_world):
    movement = released(transit_world)

    response = client_of(transit_world, "trader_a").get(
        f"{MOVEMENTS}{movement.pk}/cc015c/", HTTP_ACCEPT="application/xml"
    )

    assert response.status_code == 200
    assert response["Content-Type"] == "application/xml; charset=utf-8"
    assert response["Content-Disposition"] == f'attachment; filename="cc015c-{movement.mrn}.xml"'
    assert cc015c_validate(response.content) == []
    root = etree.fromstring(response.content)
    assert (root.findtext("messageSender"), root.findtext("messageRecipient")) == ("KERWEN", "NTA.TM")
    assert root.findtext("CustomsOfficeOfDeparture/referenceNumber") == "TM000A01"
    assert root.findtext("CustomsOfficeOfDestinationDeclared/referenceNumber") == "TM000T01"
    back = cc015c_read(response.content)
    expected = movement_data(TransitMovement.objects.get(pk=movement.pk))
    # What CC015C has no place for: the carrier's name, item values, the MRN and its time; 8 digits of code.
    assert (back.lrn, back.departure_office, back.destination_office, back.transit_offices) == (
        expected.lrn,
        "TMA01",
        "TMT01",
        ["TMF01"],
    )
    assert (back.principal.identification, back.seals, back.containers, back.time_limit) == (
        "101012345678",
        expected.seals,
        expected.containers,
        expected.time_limit,
    )
    assert [(item.commodity_code, item.gross_mass, item.net_mass) for item in back.items] == [
        ("87032319", D("1200.000000"), D("1100.000000"))
    ]


# --- Verifying a TAD's token ------------------------------------------------------------------------------


@pytest.fixture
def keys(settings, tmp_path):
    settings.TRANSIT_SIGNING_KEYS_DIR = tmp_path / "keys"


def test_a_genuine_token_is_authentic_with_the_live_status_and_no_sign_in(transit_world, keys):
    movement = released(transit_world)
    claims = claims_from_transit(movement_data(TransitMovement.objects.get(pk=movement.pk)))
    token = token_sign(claims)

    response = APIClient().get(URL + "verify/", {"token": token[:40] + "\n" + token[40:]})

    assert response.status_code == 200
    assert response["Cache-Control"] == "no-store"
    assert response.json() == {
        "authentic": True,
        "reason": None,
        "reason_code": None,
        "claims": claims,
        "status": "Released for transit",
    }


def test_a_token_with_one_character_changed_is_not_authentic_and_says_nothing_of_the_movement(
    transit_world, keys
):
    movement = released(transit_world)
    token = token_sign(claims_from_transit(movement_data(TransitMovement.objects.get(pk=movement.pk))))
    position = token.rindex(".") + 20  # a character in the middle of the signature
    forged = token[:position] + ("A" if token[position] != "A" else "B") + token[position + 1 :]

    response = APIClient().get(URL + "verify/", {"token": forged})

    assert response.status_code == 200
    assert response.json() == {
        "authentic": False,
        "reason": "The signature does not match the data: the token was altered or forged.",
        "reason_code": "bad signature",
        "claims": None,
    }


def test_a_genuine_token_of_a_movement_unknown_here_has_no_status(transit_world, keys):
    claims = {"mrn": "26KZKZA010000001J0", "dep": "KZA01", "iat": 1767225600}

    response = APIClient().get(URL + "verify/", {"token": token_sign(claims)})

    assert response.json() == {"authentic": True, "reason": None, "reason_code": None, "claims": claims}


def test_verify_needs_a_token(transit_world):
    response = APIClient().get(URL + "verify/")

    assert (response.status_code, fields_of(response)) == (400, {"token": ["required"]})

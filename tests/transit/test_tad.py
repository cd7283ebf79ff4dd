"""The transit accompanying document (TAD): what it prints, in English, Russian and Turkmen, and that a
real decoder reads the MRN off its Code 128 barcode and the signed token off its QR code.

Page 1 is rendered to PNG by poppler's ``pdftoppm -r 200`` and decoded by zbar's ``zbarimg --raw -q``
(Debian ``poppler-utils`` and ``zbar-tools``): those tests are skipped when the tools are absent, but
never when CI=true.
"""

import base64
import datetime
import hashlib
import io
import json
import re
from decimal import Decimal

import pypdf
import pytest

from tests.customs.factories import CountryFactory, OfficeFactory
from tests.customs.test_codes import decode, page_png, require_decoders
from transit.data import PartyData, TransitData, TransitItemData
from transit.tad import TAD_TEMPLATE, tad_context, tad_render

pytestmark = pytest.mark.django_db

MRN = "26TMTMA010000014J9"
ISSUED_AT = datetime.datetime(2026, 3, 10, 9, 30, tzinfo=datetime.UTC)  # 14:30 in Ashgabat
QR_CAPTION = "Scan to check: the token is signed by customs; any post can verify it offline"
ITEMS_HEADER = "Item Commodity code Description of goods Packages Gross mass (kg) Value"


def _base64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _jws(claims: dict) -> str:
    """A compact JWS as the transit token is shaped (EdDSA header with a kid, short claims, a 64-byte
    signature); the signature bytes are made up, nothing here checks them."""
    header = _base64url(json.dumps({"alg": "EdDSA", "kid": "20260101000000"}, separators=(",", ":")).encode())
    payload = _base64url(json.dumps(claims, separators=(",", ":"), ensure_ascii=False).encode())
    return f"{header}.{payload}.{_base64url(hashlib.sha512(payload.encode()).digest())}"


TOKEN = _jws(
    {
        "mrn": MRN,
        "dep": "TMA01",
        "dst": "KZ000510",
        "trn": ["TMF01", "UZ000300"],
        "prn": "101012345678",
        "pla": "AG 1234 TM",
        "sea": ["TM-S-000101", "TM-S-000102"],
        "itm": 3,
        "gms": "3703.500",
        "grn": "26TM0000000000123G",
        "tlm": "2026-03-20",
        "iat": int(ISSUED_AT.timestamp()),
    }
)


def _transit_data(items: int = 3) -> TransitData:
    """A T1 from Ashgabat (TMA01) via Farap (TMF01) and an Uzbek office to a Kazakh one (the two foreign
    offices unknown to the database), with Turkmen and Russian words in it."""
    return TransitData(
        lrn="LRN-2026-0001",
        departure_office="TMA01",
        destination_office="KZ000510",
        transit_offices=["TMF01", "UZ000300"],
        principal=PartyData(
            identification="101012345678",
            name="Türkmen Ýük Gatnaw HJ",
            street="Magtymguly şaýoly 12",
            city="Aşgabat",
            postcode="744000",
            country="TM",
        ),
        carrier=PartyData(
            identification="KZ990011223",
            name="Казахская транспортная компания",
            street="ул. Абая 5",
            city="Алматы",
            postcode="050000",
            country="KZ",
        ),
        transport_identity="AG 1234 TM",
        transport_nationality="TM",
        containers=["MSKU1234565"],
        seals=["TM-S-000101", "TM-S-000102"],
        itinerary=["TM", "UZ", "KZ"],
        time_limit=datetime.date(2026, 3, 20),
        guarantee_reference="26TM0000000000123G",
        previous_document="EX TMA01 2026 C 42",
        items=[
            TransitItemData(
                number=number,
                commodity_code="8703231981",
                description=f"Легковой автомобиль, модель {number}",
                packages_number=2,
                package_kind="CT",
                gross_mass=Decimal("1234.500"),
                value=Decimal("15000.00"),
                currency="USD",
            )
            for number in range(1, items + 1)
        ],
        mrn=MRN,
        issued_at=ISSUED_AT,
    )


@pytest.fixture
def decoders():
    require_decoders()


@pytest.fixture
def offices():
    """Ashgabat and Farap, named in the three languages (Farap has no Turkmen name: English is used)."""
    turkmenistan = CountryFactory()
    return [
        OfficeFactory(
            code="TMA01", name_en="Ashgabat", name_ru="Ашхабад", name_tk="Aşgabat", country=turkmenistan
        ),
        OfficeFactory(code="TMF01", name_en="Farap", name_ru="Фарап", name_tk="", country=turkmenistan),
    ]


def _pages(pdf: bytes) -> list[str]:
    """The text of each page, runs of white space made one space (words wrap in boxes)."""
    return [" ".join(page.extract_text().split()) for page in pypdf.PdfReader(io.BytesIO(pdf)).pages]


def test_template_name():
    assert TAD_TEMPLATE == "transit/pdf/tad.html"


@pytest.mark.parametrize(
    ("language", "departure", "farap"),
    [("en", "Ashgabat", "Farap"), ("ru", "Ашхабад", "Фарап"), ("tk", "Aşgabat", "Farap")],
)
def test_context_names_the_known_offices_in_the_language_and_the_others_by_code(
    offices, django_assert_num_queries, language, departure, farap
):
    with django_assert_num_queries(1):
        context = tad_context(
            _transit_data(), token=TOKEN, status_label="Released", duplicate=False, language=language
        )

    assert context["departure_office"] == {"code": "TMA01", "name": departure}
    assert context["transit_offices"] == [{"code": "TMF01", "name": farap}, {"code": "UZ000300", "name": ""}]
    assert context["destination_office"] == {"code": "KZ000510", "name": ""}
    assert context["mrn"] == MRN
    assert context["total_packages"] == 6
    assert context["total_gross_mass"] == Decimal("3703.500")
    assert context["issued_at"] == ISSUED_AT
    assert context["issued_at"].utcoffset() == datetime.timedelta(hours=5)  # printed in local time
    assert context["principal"] == {
        "name": "Türkmen Ýük Gatnaw HJ",
        "identification": "101012345678",
        "address": "Magtymguly şaýoly 12, 744000 Aşgabat, TM",
    }


def test_context_without_offices_in_the_database_prints_codes():
    context = tad_context(
        _transit_data(), token=TOKEN, status_label="Released", duplicate=True, language="en"
    )

    assert context["departure_office"] == {"code": "TMA01", "name": ""}
    assert [office["name"] for office in context["transit_offices"]] == ["", ""]
    assert context["duplicate"] is True
    assert context["duplicate_word"] == "DUPLICATE"


def test_context_of_a_movement_without_mrn_is_refused():
    data = _transit_data()
    data.mrn = ""

    with pytest.raises(ValueError, match="needs the MRN"):
        tad_context(data, token=TOKEN, status_label="Released", duplicate=False, language="en")


def test_token_is_a_long_jws():
    assert len(TOKEN) >= 400
    assert re.fullmatch(r"[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+", TOKEN)


@pytest.mark.parametrize("duplicate", [False, True])
def test_page_one_barcode_reads_as_the_mrn_and_qr_code_as_the_token(offices, decoders, tmp_path, duplicate):
    pdf = tad_render(_transit_data(), token=TOKEN, duplicate=duplicate)

    image = page_png(pdf, tmp_path, page=1, resolution=200)

    assert decode(image, "code128") == [MRN]
    assert decode(image, "qr") == [TOKEN]
    assert sorted(decode(image)) == sorted([MRN, TOKEN])  # nothing else on the page reads as a code


def test_page_one_of_a_long_tad_still_carries_both_codes(offices, decoders, tmp_path):
    image = page_png(tad_render(_transit_data(items=40), token=TOKEN, language="ru"), tmp_path, page=1)

    assert decode(image, "code128") == [MRN]
    assert decode(image, "qr") == [TOKEN]


def test_english_tad_prints_the_movement(offices):
    pdf = tad_render(_transit_data(), token=TOKEN)

    reader = pypdf.PdfReader(io.BytesIO(pdf))
    [text] = _pages(pdf)
    assert reader.metadata.title == f"Transit accompanying document {MRN}"
    assert text.startswith(f"TRANSIT ACCOMPANYING DOCUMENT Movement reference number (MRN) {MRN} ")
    for expected in [
        "Declaration type T1",
        "Status Released for transit",
        "Issued on March 10, 2026, 2:30 p.m.",
        "LRN LRN-2026-0001",
        QR_CAPTION,
        "Office of departure TMA01 Ashgabat",
        "Office of destination KZ000510",
        "Offices of transit (in route order) 1. TMF01 Farap 2. UZ000300",
        "Principal Türkmen Ýük Gatnaw HJ 101012345678 Magtymguly şaýoly 12, 744000 Aşgabat, TM",
        "Carrier Казахская транспортная компания KZ990011223 ул. Абая 5, 050000 Алматы, KZ",
        "Means of transport (identity, nationality) AG 1234 TM (TM)",
        "Containers MSKU1234565",
        "Seals (number, identities) 2: TM-S-000101, TM-S-000102",
        "Itinerary (countries of routing) TM → UZ → KZ",
        "Time limit March 20, 2026",
        "Guarantee reference 26TM0000000000123G",
        "Previous document EX TMA01 2026 C 42",
        "Total packages 6",
        "Total gross mass (kg) 3,703.500",
        ITEMS_HEADER,
        "1 8703231981 Легковой автомобиль, модель 1 2 CT 1,234.500 15,000.00 USD",
        "3 8703231981 Легковой автомобиль, модель 3 2 CT 1,234.500 15,000.00 USD",
        "Total 6 3,703.500",
        "Issued on March 10, 2026, 2:30 p.m. by the office of departure.",
        f"Kerwen Transit accompanying document · MRN {MRN}",
        "Page 1 of 1",
    ]:
        assert expected in text, expected
    assert "DUPLICATE" not in text
    assert "Printed on " in text


def test_duplicate_says_so_under_the_title_and_on_every_page(offices):
    pdf = tad_render(_transit_data(items=40), token=TOKEN, duplicate=True)

    pages = _pages(pdf)
    assert len(pages) == 2
    assert pages[0].startswith(
        f"TRANSIT ACCOMPANYING DOCUMENT DUPLICATE Movement reference number (MRN) {MRN}"
    )
    assert [text.count("DUPLICATE") for text in pages] == [2, 1]  # the mark by the title; the stamp on each


def test_long_tad_spans_pages_with_the_header_repeated(offices):
    pdf = tad_render(_transit_data(items=40), token=TOKEN)

    pages = _pages(pdf)
    assert len(pages) == 2
    for number, text in enumerate(pages, start=1):
        assert f"Kerwen Transit accompanying document · MRN {MRN}" in text
        assert text.count(ITEMS_HEADER) == 1
        assert text.endswith(f"Page {number} of 2")
    rows = [re.findall(r"(\d+) 8703231981 Легковой автомобиль, модель \1 ", text) for text in pages]
    assert [int(number) for number in rows[0] + rows[1]] == list(range(1, 41))  # each item once, in order
    assert rows[1]  # the items continue on page 2
    assert "Total 80 49,380.000" in pages[1]
    assert "Total 80" not in pages[0]


@pytest.mark.parametrize(
    ("language", "office", "time_limit", "issued"),
    [
        ("ru", "TMA01 Ашхабад", "20 марта 2026 г.", "10 марта 2026 г. 14:30"),
        ("tk", "TMA01 Aşgabat", "20 Mart 2026", "10 Mart 2026 14:30"),
    ],
)
def test_tad_in_russian_and_turkmen_prints_their_letters(offices, language, office, time_limit, issued):
    pdf = tad_render(_transit_data(), token=TOKEN, language=language)

    reader = pypdf.PdfReader(io.BytesIO(pdf))
    [text] = _pages(pdf)
    assert reader.trailer["/Root"]["/Lang"] == language
    for expected in [
        MRN,
        office,
        time_limit,
        issued,
        "Türkmen Ýük Gatnaw HJ",
        "Magtymguly şaýoly 12, 744000 Aşgabat, TM",
        "Казахская транспортная компания",
        "Легковой автомобиль, модель 2",
        "TM-S-000101, TM-S-000102",
    ]:
        assert expected in text, expected


def test_unknown_language_is_refused(offices):
    with pytest.raises(ValueError, match="Unknown document language 'de'"):
        tad_render(_transit_data(), token=TOKEN, language="de")


def test_duplicate_stamp_also_says_it_in_the_language_of_the_document(offices):
    pages = _pages(tad_render(_transit_data(items=40), token=TOKEN, duplicate=True, language="ru"))

    assert pages[0].startswith(
        "ТРАНЗИТНЫЙ СОПРОВОДИТЕЛЬНЫЙ ДОКУМЕНТ DUPLICATE · ДУБЛИКАТ "
        f"Регистрационный номер перевозки (MRN) {MRN}"
    )
    assert [text.count("ДУБЛИКАТ") for text in pages] == [2, 1]
    assert [text.count("DUPLICATE") for text in pages] == [2, 1]


def test_context_in_an_unknown_language_is_refused():
    with pytest.raises(ValueError, match="Unknown document language 'de'"):
        tad_context(_transit_data(), token=TOKEN, status_label="Released", duplicate=False, language="de")

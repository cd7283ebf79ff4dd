"""The duty engine on a small tariff, every figure computed by hand in the comments."""

import datetime
from decimal import Decimal

import pytest

from customs.models import Incoterm
from tariff.choices import FeeKind, MeasureType
from tariff.engine import AssessmentError, AssessmentInput, ItemInput, assess, tariff_cache_clear
from tariff.expressions import Unit
from tariff.models import CustomsFee, Measure
from tariff.valuation import Cost, DeclaredCosts
from tests.tariff.conftest import BEFORE_CHANGE, CAR, CHANGE, FISH, PISTOL

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("small_tariff")]
D = Decimal


def _fish(day=BEFORE_CHANGE, origin="CN", preference=False, documents=(), cpc="4000", currency="USD", **item):
    fields = {
        "commodity_code": FISH,
        "origin": origin,
        "invoice_price": D("1000"),
        "gross_mass": D("1000"),
        "net_mass": D("900"),
        "preference_requested": preference,
        "documents": frozenset(documents),
    }
    fields.update(item)
    return assess(
        AssessmentInput(
            day=day,
            direction="IM",
            procedure_code=cpc,
            incoterm="FOB",
            invoice_currency=currency,
            items=[ItemInput(**fields)],
            costs=DeclaredCosts(freight=Cost(D("100"), "USD"), insurance=Cost(D("10"), "USD")),
        )
    )


def _taxes(assessment):
    return [(tax.measure_type, tax.base, tax.amount) for tax in assessment.items[0].taxes]


def test_ad_valorem_duty_vat_on_top_and_fee_minimum():
    # customs value: 1000 USD × 3.5 = 3500.00 + freight 100 USD = 350.00 + insurance 10 USD = 35.00 → 3885.00
    # duty 7% × 3885.00 = 271.95; VAT 15% × (3885.00 + 271.95) = 623.5425 → 623.54
    # fee 0.2% × 3885.00 = 7.77 → minimum 20.00
    assessment = _fish()

    assert assessment.items[0].customs_value == D("3885.00")
    assert _taxes(assessment) == [
        ("import_duty", D("3885.00"), D("271.95")),
        ("vat", D("4156.95"), D("623.54")),
    ]
    assert assessment.items[0].taxes[1].unrounded == D("623.5425")
    assert [(fee.amount, fee.formula) for fee in assessment.fees] == [
        (D("20.00"), "0.2% × 3,885.00 = 7.7700 → minimum 20.00")
    ]
    assert assessment.totals == {"import_duty": D("271.95"), "vat": D("623.54"), "customs_fee": D("20.00")}
    assert assessment.total == D("915.49")
    assert assessment.rates == {"USD": D("3.5")}


def test_the_day_of_a_tariff_change_uses_the_new_mixed_rate():
    # 8% × 3885.00 = 310.80 is below the minimum 0.50 EUR/kg × 900 kg × 4.0 = 1800.00 → 1800.00
    # VAT 15% × (3885.00 + 1800.00) = 852.75
    assessment = _fish(day=CHANGE)

    assert _taxes(assessment) == [
        ("import_duty", D("3885.00"), D("1800.00")),
        ("vat", D("5685.00"), D("852.75")),
    ]
    assert assessment.items[0].taxes[0].expression == "8% MIN 0.50 EUR/kg"


def test_preference_applies_only_with_proof_of_origin():
    with_proof = _fish(origin="KZ", preference=True, documents={"ST1"})
    without_proof = _fish(origin="KZ", preference=True)
    not_asked = _fish(origin="KZ", documents={"ST1"})

    assert _taxes(with_proof)[0] == ("import_duty", D("3885.00"), D("0.00"))
    assert with_proof.items[0].taxes[0].note == "preferential rate for origin KZ (CIS_FTA)"
    assert _taxes(with_proof)[1] == ("vat", D("3885.00"), D("582.75"))
    assert _taxes(without_proof)[0] == ("import_duty", D("3885.00"), D("271.95"))
    assert without_proof.items[0].warnings == [
        "Import duty: a preference was asked for but the proof of origin ST1 is not attached; "
        "the general rate applies."
    ]
    assert _taxes(not_asked)[0][2] == D("271.95")


def test_preference_for_an_origin_outside_the_group_is_not_given():
    assessment = _fish(origin="CN", preference=True, documents={"ST1"})

    assert _taxes(assessment)[0][2] == D("271.95")


def test_relief_by_procedure_code_needs_its_document():
    relieved = _fish(cpc="4091", documents={"DIP"})
    refused = _fish(cpc="4091")

    assert _taxes(relieved) == [("import_duty", D("3885.00"), D("0.00")), ("vat", D("3885.00"), D("0.00"))]
    assert relieved.items[0].taxes[1].note == "relief for procedure 4091"
    assert _taxes(refused)[0][2] == D("271.95")
    assert refused.items[0].warnings[0] == (
        "Import duty: the relief for procedure 4091 needs document DIP; it was not applied."
    )


def test_excise_and_vat_stack_on_duty_for_a_car():
    # CIF 20000 EUR × 4.0 = 80000.00; duty max(10% = 8000.00, 100 EUR × 1 × 4.0 = 400.00) = 8000.00
    # excise 5% × (80000 + 8000) = 4400.00; VAT 15% × (80000 + 8000 + 4400) = 13860.00; fee 0.2% = 160.00
    assessment = assess(
        AssessmentInput(
            day=BEFORE_CHANGE,
            direction="IM",
            procedure_code="4000",
            incoterm="CIF",
            invoice_currency="EUR",
            items=[ItemInput(CAR, "DE", D("20000"), D("1500"), D("1400"), quantities={Unit.ITEM: D("1")})],
        )
    )

    assert _taxes(assessment) == [
        ("import_duty", D("80000.00"), D("8000.00")),
        ("excise", D("88000.00"), D("4400.00")),
        ("vat", D("92400.00"), D("13860.00")),
    ]
    assert assessment.fees[0].amount == D("160.00")
    assert assessment.total == D("26420.00")


def test_licence_requirement_is_a_warning_until_the_licence_is_attached():
    def pistol(documents):
        return assess(
            AssessmentInput(
                day=BEFORE_CHANGE,
                direction="IM",
                procedure_code="4000",
                incoterm="CIF",
                invoice_currency="USD",
                items=[ItemInput(PISTOL, "DE", D("500"), D("2"), D("1"), documents=frozenset(documents))],
            )
        ).items[0]

    missing, attached = pistol(()), pistol({"LIC"})

    assert [(r.kind, r.satisfied) for r in missing.restrictions] == [("licence", False)]
    assert missing.warnings == ["Licence required: attach document LIC."]
    assert [(r.kind, r.satisfied) for r in attached.restrictions] == [("licence", True)]
    assert attached.warnings == []


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        (
            {"commodity_code": "0303"},
            "items[0].commodity_code",
            "0303 is not a declarable line; choose one of its subdivisions.",
        ),
        ({"net_mass": D("1200")}, "items[0].net_mass", "The net mass cannot exceed the gross mass."),
        ({"gross_mass": D("-1")}, "items[0].gross_mass", "The gross mass cannot be negative."),
        ({"invoice_price": D("0")}, "items[0].invoice_price", "The item price must be more than zero."),
        ({"origin": "China"}, "items[0].origin", "The origin must be a two-letter country code."),
        ({"currency": "GBP"}, "invoice_currency", "No exchange rate for GBP is in force on 2026-11-30."),
    ],
)
def test_bad_input_names_the_field(changes, field, message):
    with pytest.raises(AssessmentError) as error:
        _fish(**changes)

    assert (error.value.field, str(error.value)) == (field, message)


def test_unknown_and_not_yet_valid_codes_are_refused():
    with pytest.raises(AssessmentError) as unknown:
        _fish(commodity_code="0101999999")
    with pytest.raises(AssessmentError) as too_early:
        _fish(day=datetime.date(2025, 6, 2), commodity_code=FISH)

    assert unknown.value.field == "items[0].commodity_code"
    assert "0101999999" in str(unknown.value)
    assert too_early.value.field == "items[0].commodity_code"
    assert "2026-01-01" in str(too_early.value)


def test_an_absurd_amount_is_refused():
    with pytest.raises(AssessmentError) as error:
        _fish(invoice_price=D("5000000000000"))

    assert (error.value.field, str(error.value)) == (
        "items[0].invoice_price",
        "This figure is too large to be real; check it.",
    )


# (incoterm, what the customs value adds to the 3500.00 TMT price): freight 350.00 and insurance 35.00
# are added when the price lacks them; costs after the border (17.50) are deducted when it includes them.
ALL_INCOTERMS = [
    ("EXW", "3885.00"),
    ("FCA", "3885.00"),
    ("FAS", "3885.00"),
    ("FOB", "3885.00"),
    ("CFR", "3535.00"),
    ("CPT", "3535.00"),
    ("CIF", "3500.00"),
    ("CIP", "3500.00"),
    ("DAP", "3482.50"),
    ("DPU", "3482.50"),
    ("DDP", "3482.50"),
]


@pytest.mark.parametrize(("incoterm", "customs_value"), ALL_INCOTERMS)
def test_every_incoterm_2020_rule_from_the_shipped_reference_data(incoterm, customs_value):
    from customs.services.reference import reference_load

    Incoterm.objects.all().delete()
    reference_load(only=["incoterms"])
    tariff_cache_clear()
    costs = DeclaredCosts(
        freight=Cost(D("100"), "USD"), insurance=Cost(D("10"), "USD"), beyond_border=Cost(D("5"), "USD")
    )

    assessment = assess(
        AssessmentInput(
            day=BEFORE_CHANGE,
            direction="IM",
            procedure_code="4000",
            incoterm=incoterm,
            invoice_currency="USD",
            items=[ItemInput(FISH, "CN", D("1000"), D("1000"), D("900"))],
            costs=costs,
        )
    )

    assert assessment.items[0].customs_value == D(customs_value)


def test_export_pays_export_duty_and_the_flat_export_fee_but_no_vat():
    Measure.objects.create(
        measure_type=MeasureType.EXPORT_DUTY,
        commodity_prefix="0303",
        expression="5%",
        valid_from=datetime.date(2026, 1, 1),
    )
    CustomsFee.objects.create(
        code="CF-EX",
        name_en="Export fee",
        kind=FeeKind.FLAT,
        direction="EX",
        amount=D("50"),
        valid_from=datetime.date(2026, 1, 1),
    )
    tariff_cache_clear()

    assessment = assess(
        AssessmentInput(
            day=BEFORE_CHANGE,
            direction="EX",
            procedure_code="1000",
            incoterm="FOB",
            invoice_currency="USD",
            items=[ItemInput(FISH, "TM", D("1000"), D("1000"), D("900"))],
        )
    )

    # FOB export: 1000 USD × 3.5 = 3500.00; export duty 5% = 175.00; flat fee 50.00
    assert _taxes(assessment) == [("export_duty", D("3500.00"), D("175.00"))]
    assert [(fee.label, fee.amount) for fee in assessment.fees] == [("Export fee", D("50.00"))]
    assert assessment.total == D("225.00")


def test_tax_names_follow_the_active_language():
    from django.utils import translation

    english = [tax.label for tax in _fish().items[0].taxes]
    with translation.override("ru"):
        russian = [tax.label for tax in _fish().items[0].taxes]
    with translation.override("ru"):
        expected = [str(MeasureType(tax).label) for tax in ("import_duty", "vat")]

    assert english == ["Import duty", "VAT"]
    assert russian == expected and russian != english
    assert [tax.label for tax in _fish().items[0].taxes] == english

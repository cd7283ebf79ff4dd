"""The stored assessment of declarations computed by hand: every tax line and item customs value.

Rates: 1 USD = 3.5 TMT, 1 EUR = 4.0 TMT. Car: duty 10% MIN 100 EUR/item, excise 5%, VAT 15%. Fish
(today): duty 8% MIN 0.50 EUR/kg net, VAT 15%. Fee 0.2% of the customs value, min 20, max 1,000.
Rounding (ROUND_HALF_UP, to 0.01): each converted amount; each item's share of a cost (largest
remainder, so shares add up to the cost); each tax. Excise and VAT bases add the rounded taxes before.
"""

from decimal import Decimal

import pytest

from customs.models import Incoterm
from customs.reference_cache import reference_cache_clear
from declarations.choices import Status
from declarations.services.drafts import declaration_create
from declarations.services.lifecycle import declaration_lodge
from tariff.engine import tariff_cache_clear
from tests.declarations.conftest import FISH, declaration_data, item_data

pytestmark = pytest.mark.django_db
D = Decimal


def _lodged(world, data):
    trader = world["users"]["trader_a"]
    declaration = declaration_lodge(actor=trader, declaration=declaration_create(actor=trader, data=data))
    assert declaration.status == Status.ASSESSED
    return declaration


def _lines(declaration):
    return list(
        declaration.tax_lines.order_by("position").values_list(
            "item_number", "measure_type", "base", "amount"
        )
    )


def _customs_values(declaration):
    return list(declaration.items.order_by("number").values_list("customs_value", flat=True))


def _fish(price, gross, net):
    return item_data(
        commodity_code=FISH,
        description="Frozen fish",
        invoice_price=price,
        gross_mass=gross,
        net_mass=net,
        quantities={},
    )


def test_fob_in_euros_with_freight_in_dollars(world):
    data = declaration_data(
        items=[item_data(invoice_price=D("10000.00"))],
        incoterm="FOB",
        invoice_currency="EUR",
        freight_amount=D("500.00"),
        freight_currency="USD",
        insurance_amount=D("100.00"),
        insurance_currency="EUR",
    )

    declaration = _lodged(world, data)

    # invoice 10,000.00 EUR × 4.0 = 40,000.00; freight 500.00 USD × 3.5 = 1,750.00 (FOB: added);
    # insurance 100.00 EUR × 4.0 = 400.00 (added). Customs value 42,150.00.
    # duty 10% × 42,150.00 = 4,215.00 (minimum 1 × 100 EUR × 4.0 = 400.00 does not bite);
    # excise 5% × (42,150.00 + 4,215.00 = 46,365.00) = 2,318.25;
    # VAT 15% × (46,365.00 + 2,318.25 = 48,683.25) = 7,302.4875 → 7,302.49;
    # fee 0.2% × 42,150.00 = 84.30. Total 4,215.00 + 2,318.25 + 7,302.49 + 84.30 = 13,920.04.
    assert _customs_values(declaration) == [D("42150.00")]
    assert _lines(declaration) == [
        (1, "import_duty", D("42150.00"), D("4215.00")),
        (1, "excise", D("46365.00"), D("2318.25")),
        (1, "vat", D("48683.25"), D("7302.49")),
        (None, "customs_fee", D("42150.00"), D("84.30")),
    ]
    assert declaration.customs_value == D("42150.00")
    assert declaration.total_taxes == D("13920.04")
    assert declaration.exchange_rates == {"EUR": "4.0000000000", "USD": "3.5000000000"}
    steps = declaration.items.get().valuation_steps
    assert [(step["label"], step["amount"]) for step in steps] == [
        ("Invoice price", "40000.00"),
        ("Freight to the border", "1750.00"),
        ("Insurance", "400.00"),
    ]


def _three_fish(**overrides):
    items = [
        _fish(D("1000.00"), D("110"), D("100")),
        _fish(D("2000.00"), D("230"), D("200")),
        _fish(D("3000.00"), D("370"), D("300")),
    ]
    return declaration_data(
        items=items,
        incoterm="FOB",
        freight_amount=D("100.00"),
        freight_currency="USD",
        insurance_amount=D("30.00"),
        insurance_currency="USD",
        **overrides,
    )


def test_freight_split_over_three_items_by_price(world):
    declaration = _lodged(world, _three_fish())

    # prices 1,000 / 2,000 / 3,000 USD × 3.5 = 3,500.00 / 7,000.00 / 10,500.00 (sum 21,000.00).
    # freight 100.00 USD = 350.00 by price: 58.333.. / 116.666.. / 175.00 → cut to 58.33 / 116.66 /
    # 175.00 (349.99); the one cent left goes to the largest remainder, item 2 → 116.67.
    # insurance 30.00 USD = 105.00 by price: 17.50 / 35.00 / 52.50.
    # customs values 3,575.83 / 7,151.67 / 10,727.50 (sum 21,455.00).
    # duty 8%: 286.0664 → 286.07; 572.1336 → 572.13; 858.20 (minimum 0.50 EUR × 4.0 × net 100/200/300
    # kg = 200 / 400 / 600 does not bite).
    # VAT 15%: 3,861.90 → 579.285 → 579.29; 7,723.80 → 1,158.57; 11,585.70 → 1,737.855 → 1,737.86.
    # fee 0.2% × 21,455.00 = 42.91. Total 1,716.40 + 3,475.72 + 42.91 = 5,235.03.
    assert _customs_values(declaration) == [D("3575.83"), D("7151.67"), D("10727.50")]
    assert _lines(declaration) == [
        (1, "import_duty", D("3575.83"), D("286.07")),
        (1, "vat", D("3861.90"), D("579.29")),
        (2, "import_duty", D("7151.67"), D("572.13")),
        (2, "vat", D("7723.80"), D("1158.57")),
        (3, "import_duty", D("10727.50"), D("858.20")),
        (3, "vat", D("11585.70"), D("1737.86")),
        (None, "customs_fee", D("21455.00"), D("42.91")),
    ]
    assert declaration.customs_value == D("21455.00")
    assert declaration.total_taxes == D("5235.03")


def test_freight_split_over_three_items_by_gross_mass(world):
    declaration = _lodged(world, _three_fish(freight_split="mass"))

    # freight 350.00 by gross mass 110 / 230 / 370 kg (710): 54.2253.. / 113.3802.. / 182.3943.. →
    # 54.22 / 113.38 / 182.39 (349.99); the cent left goes to the largest remainder, item 1 → 54.23.
    # insurance always by price: 17.50 / 35.00 / 52.50.
    # customs values 3,571.73 / 7,148.38 / 10,734.89 (sum 21,455.00).
    # duty 8%: 285.7384 → 285.74; 571.8704 → 571.87; 858.7912 → 858.79.
    # VAT 15%: 3,857.47 → 578.6205 → 578.62; 7,720.25 → 1,158.0375 → 1,158.04;
    # 11,593.68 → 1,739.052 → 1,739.05. fee 42.91. Total 1,716.40 + 3,475.71 + 42.91 = 5,235.02.
    assert _customs_values(declaration) == [D("3571.73"), D("7148.38"), D("10734.89")]
    assert _lines(declaration) == [
        (1, "import_duty", D("3571.73"), D("285.74")),
        (1, "vat", D("3857.47"), D("578.62")),
        (2, "import_duty", D("7148.38"), D("571.87")),
        (2, "vat", D("7720.25"), D("1158.04")),
        (3, "import_duty", D("10734.89"), D("858.79")),
        (3, "vat", D("11593.68"), D("1739.05")),
        (None, "customs_fee", D("21455.00"), D("42.91")),
    ]
    assert declaration.total_taxes == D("5235.02")
    freight_steps = [
        step
        for step in declaration.items.get(number=1).valuation_steps
        if step["label"] == "Freight to the border"
    ]
    assert [step["amount"] for step in freight_steps] == ["54.23"]
    assert "by gross mass" in freight_steps[0]["detail"]


def test_dap_with_costs_beyond_the_border_deducted(world):
    Incoterm.objects.create(
        code="DAP",
        name_en="Delivered at place",
        includes_main_carriage=True,
        includes_insurance=True,
        includes_costs_beyond_border=True,
    )
    reference_cache_clear()
    tariff_cache_clear()
    items = [item_data(invoice_price=D("8000.00")), item_data(invoice_price=D("4000.00"))]
    data = declaration_data(
        items=items,
        incoterm="DAP",
        freight_amount=D("300.00"),
        freight_currency="USD",
        deductions_amount=D("400.00"),
        deductions_currency="USD",
    )

    declaration = _lodged(world, data)

    # prices 8,000 / 4,000 USD × 3.5 = 28,000.00 / 14,000.00; freight is in the DAP price: not added.
    # deductions 400.00 USD = 1,400.00 by price: 933.333.. / 466.666.. → 933.33 / 466.66 (1,399.99);
    # the cent goes to item 2 (larger remainder) → 466.67. Customs values 27,066.67 / 13,533.33.
    # duty 10%: 2,706.667 → 2,706.67; 1,353.333 → 1,353.33 (minimum 400.00 does not bite).
    # excise 5%: 29,773.34 → 1,488.667 → 1,488.67; 14,886.66 → 744.333 → 744.33.
    # VAT 15%: 31,262.01 → 4,689.3015 → 4,689.30; 15,630.99 → 2,344.6485 → 2,344.65.
    # fee 0.2% × 40,600.00 = 81.20. Total 4,060.00 + 2,233.00 + 7,033.95 + 81.20 = 13,408.15.
    assert _customs_values(declaration) == [D("27066.67"), D("13533.33")]
    assert _lines(declaration) == [
        (1, "import_duty", D("27066.67"), D("2706.67")),
        (1, "excise", D("29773.34"), D("1488.67")),
        (1, "vat", D("31262.01"), D("4689.30")),
        (2, "import_duty", D("13533.33"), D("1353.33")),
        (2, "excise", D("14886.66"), D("744.33")),
        (2, "vat", D("15630.99"), D("2344.65")),
        (None, "customs_fee", D("40600.00"), D("81.20")),
    ]
    assert declaration.customs_value == D("40600.00")
    assert declaration.total_taxes == D("13408.15")
    steps = declaration.items.get(number=2).valuation_steps
    assert [(step["label"], step["amount"]) for step in steps] == [
        ("Invoice price", "14000.00"),
        ("Freight to the border", "0"),
        ("Costs after the border (deducted)", "-466.67"),
    ]


def test_the_fish_minimum_bites_on_a_cheap_heavy_consignment(world):
    data = declaration_data(items=[_fish(D("500.00"), D("1000"), D("900"))])

    declaration = _lodged(world, data)

    # CIF: value 500.00 USD × 3.5 = 1,750.00. duty 8% × 1,750.00 = 140.00, but the minimum is
    # 0.50 EUR × 4.0 × 900 kg = 1,800.00. VAT 15% × 3,550.00 = 532.50. fee 0.2% × 1,750 = 3.50 → min 20.00.
    assert _lines(declaration) == [
        (1, "import_duty", D("1750.00"), D("1800.00")),
        (1, "vat", D("3550.00"), D("532.50")),
        (None, "customs_fee", D("1750.00"), D("20.00")),
    ]
    assert declaration.total_taxes == D("2352.50")

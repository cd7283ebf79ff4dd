"""The kernel's SVG bar chart: one bar per figure, labels and figures in the markup, everything escaped,
an accessible name and description."""

import re
from decimal import Decimal

import pytest
from django.utils.safestring import SafeString

from customs.charts import bar_chart_svg


def _heights(svg: str) -> list[str]:
    return re.findall(r'<rect class="chart__bar" x="[\d.]+" y="[\d.]+" width="[\d.]+" height="([\d.]+)"', svg)


def test_one_bar_per_point_with_its_label_and_figure():
    svg = bar_chart_svg([("W1", 3), ("W2", 0), ("W3", 6)], title="Hits per week", unit="hits", chart_id="c")

    assert isinstance(svg, SafeString)
    assert svg.count('<rect class="chart__bar"') == 3
    assert re.findall(r'<text class="chart__label"[^>]*>([^<]*)</text>', svg) == ["W1", "W2", "W3"]
    assert re.findall(r'<text class="chart__value"[^>]*>([^<]*)</text>', svg) == ["3", "0", "6"]
    assert re.findall(r"<rect [^>]*><title>([^<]*)</title>", svg) == [
        "W1: 3 hits",
        "W2: 0 hits",
        "W3: 6 hits",
    ]


def test_bar_heights_are_proportional_to_the_figures_on_a_round_axis():
    # 6 over four intervals: a step of 2, the axis up to 8; the plot is 192 units high (260 - 28 - 40).
    svg = bar_chart_svg([("A", 3), ("B", 0), ("C", 6)], title="T", chart_id="c")

    assert _heights(svg) == ["72.0", "0.0", "144.0"]
    assert re.findall(r'<text class="chart__tick"[^>]*>([^<]*)</text>', svg) == ["0", "2", "4", "6", "8"]


def test_decimal_figures_keep_one_place():
    svg = bar_chart_svg(
        [("A", Decimal("12.5")), ("B", Decimal("100.0"))], title="Rate", unit="%", chart_id="c"
    )

    assert re.findall(r'<text class="chart__value"[^>]*>([^<]*)</text>', svg) == ["12.5", "100"]
    assert re.findall(r'<text class="chart__tick"[^>]*>([^<]*)</text>', svg) == ["0", "25", "50", "75", "100"]


def test_the_svg_is_an_image_named_by_its_title_and_described_with_every_figure():
    svg = bar_chart_svg([("TMA01", 2), ("TMT01", 1)], title="Hits by office", unit="hits", chart_id="office")

    assert svg.startswith(
        '<svg xmlns="http://www.w3.org/2000/svg" class="chart" role="img" viewBox="0 0 640 260" '
        'width="640" height="260" aria-labelledby="office-title office-desc" id="office">'
    )
    assert '<title id="office-title">Hits by office</title>' in svg
    assert '<desc id="office-desc">TMA01: 2 hits; TMT01: 1 hits</desc>' in svg
    assert svg.endswith("</svg>")


def test_every_text_is_escaped():
    svg = bar_chart_svg(
        [('<script>alert("x")</script>', 1)],
        title="A & <b>",
        unit="<u>",
        description='"quoted"',
        chart_id="c",
    )

    assert "<script>" not in svg
    assert "<b>" not in svg
    assert '<title id="c-title">A &amp; &lt;b&gt;</title>' in svg
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;" in svg
    assert '<desc id="c-desc">&quot;quoted&quot; &lt;script&gt;' in svg


def test_no_points_says_so_and_draws_no_bar():
    svg = bar_chart_svg([], title="Nothing", chart_id="c")

    assert "<rect" not in svg
    assert '<desc id="c-desc">No figures.</desc>' in svg
    assert ">No figures.</text>" in svg


def test_many_bars_slant_their_labels():
    svg = bar_chart_svg([(f"OFFICE{n:02d}", n) for n in range(20)], title="Many", chart_id="c")

    assert svg.count('transform="rotate(-45') == 20


def test_ids_differ_from_call_to_call_without_chart_id():
    first, second = bar_chart_svg([], title="Same"), bar_chart_svg([], title="Same")

    assert re.search(r'id="(chart-same-\d+)"', first).group(1) != re.search(
        r'id="(chart-same-\d+)"', second
    ).group(1)


def test_a_negative_figure_is_refused():
    with pytest.raises(ValueError):
        bar_chart_svg([("A", -1)], title="T")

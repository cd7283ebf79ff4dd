"""Small server-side charts: SVG markup made in Python, shown inline in a page. No script, no library,
nothing fetched from the internet (border posts run on closed networks).

Accessible by construction: the ``<svg>`` is an image named by its ``<title>`` and described by a
``<desc>`` that lists every figure, each bar carries its own ``<title>`` (a tooltip), and the page is
expected to show the same figures in a table as well. Every text is escaped.

Colours come from CSS classes (``chart``, ``chart__bar``, ...) with plain presentation attributes as the
fallback, so the chart follows the page's stylesheet and forced-colours mode.
"""

import itertools
from collections.abc import Sequence
from decimal import ROUND_CEILING, Decimal

from django.utils.formats import number_format
from django.utils.html import format_html
from django.utils.safestring import SafeString, mark_safe
from django.utils.text import slugify
from django.utils.translation import gettext as _

Number = int | float | Decimal

_WIDTH, _HEIGHT = 640, 260
_LEFT, _RIGHT, _TOP, _BOTTOM, _BOTTOM_ROTATED = 56, 16, 28, 40, 72
_ROTATE_BELOW = 44  # labels of narrower bars are slanted so that they do not overlap
_ids = itertools.count(1)


def _nice_ceiling(value: Decimal) -> Decimal:
    """The smallest of 1, 2, 2.5 or 5 times a power of ten that is at least ``value``: the step between
    the ticks of the value axis, so that they fall on round figures."""
    if value <= 0:
        return Decimal(1)
    power = Decimal(10) ** value.adjusted()  # value < 10 × power
    for step in (Decimal(1), Decimal(2), Decimal("2.5"), Decimal(5)):
        if step * power >= value:
            return (step * power).normalize()
    return (10 * power).normalize()


def _px(value: float) -> str:
    return f"{value:.1f}"


def _shown(value: Decimal) -> str:
    """A figure as the reader's locale writes it: whole numbers without decimals, others with one."""
    if value == value.to_integral_value():
        return number_format(int(value), force_grouping=True)
    return number_format(value, decimal_pos=1, force_grouping=True)


def _with_unit(value: Decimal, unit: str) -> str:
    return f"{_shown(value)} {unit}".strip()


def bar_chart_svg(
    points: Sequence[tuple[str, Number]],
    *,
    title: str,
    unit: str = "",
    description: str = "",
    chart_id: str | None = None,
    width: int = _WIDTH,
    height: int = _HEIGHT,
) -> SafeString:
    """A vertical bar chart of ``points`` (``(label, value)``, values zero or more) as inline SVG.

    ``title`` names the chart; ``unit`` follows every figure ("hits", "%") and labels the value axis;
    ``description`` opens the ``<desc>``, which then lists every bar's figure. ``chart_id`` makes the
    ids of the title and description (a new one per call when not given).
    """
    values = [Decimal(str(value)) for _label, value in points]
    if any(not value.is_finite() or value < 0 for value in values):
        raise ValueError("bar_chart_svg takes figures of zero or more")
    base_id = chart_id or f"chart-{slugify(title) or 'figures'}-{next(_ids)}"
    title_id, desc_id = f"{base_id}-title", f"{base_id}-desc"
    listed = "; ".join(
        f"{label}: {_with_unit(value, unit)}" for (label, _value), value in zip(points, values, strict=True)
    )
    desc_text = " ".join(part for part in (description, listed or _("No figures.")) if part)

    rotated = bool(points) and (width - _LEFT - _RIGHT) / len(points) < _ROTATE_BELOW
    plot_left, plot_right = _LEFT, width - _RIGHT
    plot_top, plot_bottom = _TOP, height - (_BOTTOM_ROTATED if rotated else _BOTTOM)
    plot_height = plot_bottom - plot_top
    # Four intervals of a round step; whole steps when every figure is whole (counts).
    step = _nice_ceiling(max(values, default=Decimal(0)) / 4)
    if all(value == value.to_integral_value() for value in values):
        step = max(Decimal(1), step.to_integral_value(rounding=ROUND_CEILING))
    top = step * 4

    def y_of(value: Decimal) -> float:
        return plot_bottom - float(value / top) * plot_height

    parts = [
        format_html(
            '<svg xmlns="http://www.w3.org/2000/svg" class="chart" role="img" viewBox="0 0 {} {}" '
            'width="{}" height="{}" aria-labelledby="{} {}" id="{}">',
            width,
            height,
            width,
            height,
            title_id,
            desc_id,
            base_id,
        ),
        format_html('<title id="{}">{}</title>', title_id, title),
        format_html('<desc id="{}">{}</desc>', desc_id, desc_text),
        '<g class="chart__grid" aria-hidden="true">',
    ]
    # The value axis: four intervals, a faint line at each tick; the unit above it.
    for tick in (step * index for index in range(5)):
        parts.append(
            format_html(
                '<line x1="{}" x2="{}" y1="{}" y2="{}" stroke="#d0d3d9" stroke-width="1"/>'
                '<text class="chart__tick" x="{}" y="{}" text-anchor="end" font-size="11">{}</text>',
                plot_left,
                plot_right,
                _px(y_of(tick)),
                _px(y_of(tick)),
                plot_left - 6,
                _px(y_of(tick) + 4),
                _shown(tick),
            )
        )
    if unit:
        parts.append(
            format_html(
                '<text class="chart__unit" x="4" y="{}" font-size="11">{}</text>', plot_top - 12, unit
            )
        )
    parts.append(
        format_html(
            '<line class="chart__axis" x1="{}" x2="{}" y1="{}" y2="{}" stroke="#1a1a1a" stroke-width="1"/>',
            plot_left,
            plot_right,
            plot_bottom,
            plot_bottom,
        )
    )
    parts.append("</g>")

    if not points:
        parts.append(
            format_html(
                '<text class="chart__empty" x="{}" y="{}" text-anchor="middle" font-size="14">{}</text>',
                (plot_left + plot_right) // 2,
                (plot_top + plot_bottom) // 2,
                _("No figures."),
            )
        )
    else:
        slot = (plot_right - plot_left) / len(points)
        bar_width = max(2.0, slot * 0.7)
        parts.append('<g class="chart__bars">')
        for index, ((label, _value), value) in enumerate(zip(points, values, strict=True)):
            x = plot_left + slot * index + (slot - bar_width) / 2
            y = y_of(value)
            middle = x + bar_width / 2
            label_y = plot_bottom + 16
            if rotated:
                label_at = format_html(
                    'x="{}" y="{}" text-anchor="end" transform="rotate(-45 {} {})"',
                    _px(middle),
                    label_y,
                    _px(middle),
                    label_y,
                )
            else:
                label_at = format_html('x="{}" y="{}" text-anchor="middle"', _px(middle), label_y)
            parts.append(
                format_html(
                    '<g class="chart__bar-group">'
                    '<rect class="chart__bar" x="{}" y="{}" width="{}" height="{}" fill="#0b4f6c">'
                    "<title>{}</title></rect>"
                    '<text class="chart__value" x="{}" y="{}" text-anchor="middle" font-size="11">{}</text>'
                    '<text class="chart__label" {} font-size="11">{}</text></g>',
                    _px(x),
                    _px(y),
                    _px(bar_width),
                    _px(plot_bottom - y),
                    f"{label}: {_with_unit(value, unit)}",
                    _px(middle),
                    _px(y - 4),
                    _shown(value),
                    label_at,
                    label,
                )
            )
        parts.append("</g>")
    parts.append("</svg>")
    return mark_safe("".join(str(part) for part in parts))  # every part is escaped above

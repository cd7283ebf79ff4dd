"""``customs.jsontext`` and the API's renderer: orjson's text, meaning what Django's and DRF's meant."""

import datetime
import json
from decimal import Decimal

from django.utils import timezone
from django.utils.translation import gettext_lazy
from rest_framework.renderers import JSONRenderer as DrfJSONRenderer

from customs.api.renderers import JSONRenderer
from customs.jsontext import json_text


def test_json_text_reads_back_as_the_values():
    at = timezone.make_aware(datetime.datetime(2026, 12, 2, 9, 30, 1, 123456))
    value = {
        "amount": Decimal("1234.5600"),
        "at": at,
        "day": datetime.date(2026, 12, 2),
        "label": gettext_lazy("Insurance"),
        "spell": datetime.timedelta(hours=2),
        7: ["a", None, True, 1.5],
    }

    decoded = json.loads(json_text(value))

    assert decoded == {
        "amount": "1234.5600",  # exact text, as Django's encoder gives it
        "at": "2026-12-02T09:30:01.123456+05:00",  # microseconds kept
        "day": "2026-12-02",
        "label": "Insurance",
        "spell": "P0DT02H00M00S",
        "7": ["a", None, True, 1.5],
    }


def test_the_renderer_gives_drfs_text():
    data = {
        "number": "TMA01 2026 C 1",
        "name": "Altyn Asyr — Туркменистан",
        "total": Decimal("10.50"),
        "at": timezone.make_aware(datetime.datetime(2026, 12, 2, 9, 30, 1, 123456)),
        "items": [{"n": 1, "ok": True, "none": None}],
        "line": "a\u2028b\u2029c",
    }

    ours = JSONRenderer().render(data, "application/json")

    assert ours == DrfJSONRenderer().render(data, "application/json")
    assert b"\\u2028" in ours and "\u2028".encode() not in ours
    assert JSONRenderer().render(None) == b""


def test_the_renderer_indents_as_drf_does_when_asked():
    data = {"a": [1, 2], "b": {"c": "d"}}

    indented = JSONRenderer().render(data, "application/json; indent=2")

    assert indented == DrfJSONRenderer().render(data, "application/json; indent=2")
    assert b"\n  " in indented


def test_the_renderer_falls_back_for_what_orjson_cannot_encode():
    data = {"big": 2**70}

    assert JSONRenderer().render(data, "application/json") == b'{"big":1180591620717411303424}'

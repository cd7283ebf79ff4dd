"""JSON text on the hot paths, encoded by orjson.

The standard ``json`` module with Django's encoder calls back into Python for every decimal and time,
and builds a new encoder for every call: for the rows of one lodged declaration (its items, tax lines,
status changes, events) that was a third of a millisecond of CPU, more than PostgreSQL takes to store
them. orjson encodes the same values in C; what it does not know (a decimal, a lazy translation, a
duration) goes through Django's encoder, so the text means what Django's would. Two differences, both
on purpose: times keep their microseconds (Django's encoder cuts them to milliseconds, which a
``timestamptz`` column would then store), and the text is compact.
"""

import orjson
from django.core.serializers.json import DjangoJSONEncoder

# What orjson does not encode itself (a decimal as its exact text, a lazy translation, a duration).
_DEFAULT = DjangoJSONEncoder().default


def json_text(value) -> str:
    """``value`` as JSON text, for a statement's ``%s::json`` parameter (dictionary keys that are not
    text become text, as ``json`` does)."""
    return orjson.dumps(value, default=_DEFAULT, option=orjson.OPT_NON_STR_KEYS).decode()

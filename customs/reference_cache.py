"""Code lists held in memory, for validating many declarations without a query per code.

Each list (countries, currencies, CPCs, ...) is read once into ``{code: (active, valid_from, valid_to)}``
and kept for ``REFERENCE_CACHE_SECONDS``; ``reference_cache_clear()`` forgets them at once (the
reference loader and the tests call it). An edit in admin is seen within that time.
"""

import datetime
import threading
import time

from customs import models

REFERENCE_CACHE_SECONDS = 60
CODE_LISTS = {
    "country": models.Country,
    "currency": models.Currency,
    "procedure_code": models.ProcedureCode,
    "additional_procedure_code": models.AdditionalProcedureCode,
    "package_kind": models.PackageKind,
    "document_type": models.DocumentType,
    "transport_mode": models.TransportMode,
    "incoterm": models.Incoterm,
}

_lists: dict[str, tuple[float, dict]] = {}
_lock = threading.Lock()


def _load(name: str) -> dict:
    model = CODE_LISTS[name]
    fields = ["code", "active", "valid_from", "valid_to"]
    if name == "procedure_code":
        fields.append("direction")
    rows = model.objects.values_list(*fields)
    return {row[0]: row[1:] for row in rows}


def code_list(name: str) -> dict:
    """``{code: (active, valid_from, valid_to[, direction])}`` of code list ``name``, cached."""
    cached = _lists.get(name)
    if cached is None or time.monotonic() - cached[0] > REFERENCE_CACHE_SECONDS:
        cached = (time.monotonic(), _load(name))
        with _lock:
            _lists[name] = cached
    return cached[1]


def code_exists(name: str, code: str) -> bool:
    """True when ``code`` is in list ``name`` and active (whatever its validity dates)."""
    entry = code_list(name).get(code)
    return entry is not None and entry[0]


def code_valid_on(name: str, code: str, day: datetime.date) -> bool:
    """True when ``code`` is active in list ``name`` and valid on ``day``."""
    entry = code_list(name).get(code)
    if entry is None or not entry[0]:
        return False
    valid_from, valid_to = entry[1], entry[2]
    return not (valid_from and day < valid_from) and not (valid_to and day > valid_to)


def procedure_direction(code: str) -> str:
    entry = code_list("procedure_code").get(code)
    return entry[3] if entry else ""


def reference_cache_clear() -> None:
    with _lock:
        _lists.clear()

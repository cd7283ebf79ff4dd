"""Customs offices as the declarations services use them: with their declaration settings, held in
memory for ``OFFICE_CACHE_SECONDS`` (every lodgement names its office; offices change rarely).

An edit of an office or of its settings in admin clears this process's copy at once; other processes
see it within ``OFFICE_CACHE_SECONDS``.
"""

import threading
import time

from customs.models import CustomsOffice

OFFICE_CACHE_SECONDS = 60

_offices: dict[str, tuple[float, CustomsOffice | None]] = {}
_lock = threading.Lock()


def office_for_declarations(code: str) -> CustomsOffice | None:
    """The active office of ``code`` with its settings loaded, or None."""
    cached = _offices.get(code)
    if cached is None or time.monotonic() - cached[0] > OFFICE_CACHE_SECONDS:
        office = (
            CustomsOffice.objects.filter(code=code, active=True)
            .select_related("declaration_settings")
            .first()
        )
        cached = (time.monotonic(), office)
        with _lock:
            _offices[code] = cached
    return cached[1]


def office_cache_clear() -> None:
    with _lock:
        _offices.clear()

"""The declarations world (small tariff, offices, traders, broker, users) for the portal's tests, and
uploaded files kept out of the repository."""

import pytest

from tests.declarations.conftest import _fresh_reference_cache, world  # noqa: F401 (fixtures)
from tests.tariff.conftest import small_tariff  # noqa: F401 (fixture)


@pytest.fixture(autouse=True)
def _media_in_tmp(settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path / "media")

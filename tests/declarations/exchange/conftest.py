"""The sample files of ``../shared/data`` (real public ASYCUDA World and WCO DM declarations).

They are read where they are, not copied into the repository (the ASYCUDA files carry no licence).
Missing data fails under CI and skips elsewhere.
"""

import os
from pathlib import Path

import pytest


def _shared_data() -> Path:
    """``KERWEN_SHARED_DATA``, else ``../shared/data`` beside the checkout, else ``/work/shared/data``
    (for a checkout cloned elsewhere, as CI may do)."""
    if os.environ.get("KERWEN_SHARED_DATA"):
        return Path(os.environ["KERWEN_SHARED_DATA"])
    candidates = [Path(__file__).resolve().parents[3].parent / "shared" / "data", Path("/work/shared/data")]
    return next((candidate for candidate in candidates if candidate.is_dir()), candidates[0])


SHARED_DATA = _shared_data()
ASYCUDA_DIR = SHARED_DATA / "asycuda"
WCODM_DIR = SHARED_DATA / "wco-dm" / "declarations"
WCODM_INDEX = SHARED_DATA / "wco-dm" / "declarations_index.csv"


def _require(path: Path) -> Path:
    if not path.exists():
        if os.environ.get("CI"):
            pytest.fail(f"The shared sample data is missing: {path} (set KERWEN_SHARED_DATA)")
        pytest.skip(f"no shared sample data at {path}")
    return path


@pytest.fixture
def asycuda_dir() -> Path:
    return _require(ASYCUDA_DIR)


@pytest.fixture
def wcodm_dir() -> Path:
    return _require(WCODM_DIR)


@pytest.fixture
def wcodm_index() -> Path:
    return _require(WCODM_INDEX)

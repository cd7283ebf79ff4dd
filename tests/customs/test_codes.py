"""Machine-readable codes: the Code 128 barcode is an SVG WeasyPrint draws, at a size a scanner reads off
a printed page, and a real decoder (zbar, on the page rendered by poppler) reads back exactly the text.

The decoders are Debian's ``zbar-tools`` (zbarimg) and ``poppler-utils`` (pdftoppm): tests that need them
are skipped when they are absent, but never when CI=true (CI installs them).
"""

import base64
import logging
import os
import shutil
import subprocess
import xml.dom.minidom
from pathlib import Path

import pytest
import weasyprint
from barcode.errors import IllegalCharacterError
from PIL import Image, ImageOps

from customs.codes import CODE128_MODULE_WIDTH_MM, code128_svg_base64
from customs.pdf import PDF_BASE_URL, LocalStaticURLFetcher

DECODERS = ("pdftoppm", "zbarimg")
# zbarimg's --raw prints each symbol's data followed by a newline; -S restricts it to one symbology, so
# that what a call returns is known to come from that kind of code.
SYMBOLOGIES = {"code128": "code128", "qr": "qrcode"}


def require_decoders() -> None:
    """Skip the test when pdftoppm or zbarimg is not on the PATH, but fail it under CI=true."""
    missing = [name for name in DECODERS if shutil.which(name) is None]
    if missing:
        if os.environ.get("CI") == "true":
            pytest.fail(f"CI=true but {', '.join(missing)} missing: apt-get install poppler-utils zbar-tools")
        pytest.skip(f"{', '.join(missing)} missing (apt-get install poppler-utils zbar-tools)")


@pytest.fixture(scope="session")
def decoders():
    """pdftoppm and zbarimg on the PATH. Skipped when absent, but never under CI=true."""
    require_decoders()


def page_png(pdf: bytes, directory: Path, *, page: int = 1, resolution: int = 200) -> Path:
    """Page ``page`` of ``pdf`` as a PNG at ``resolution`` dpi, rendered by poppler's pdftoppm."""
    source = directory / "document.pdf"
    source.write_bytes(pdf)
    subprocess.run(
        ["pdftoppm", "-r", str(resolution), "-png", "-f", str(page), "-l", str(page), "-singlefile"]
        + [str(source), str(directory / "page")],
        check=True,
        capture_output=True,
        timeout=60,
    )
    return directory / "page.png"


def decode(image: Path, symbology: str | None = None) -> list[str]:
    """What zbar reads in ``image`` (``zbarimg --raw -q``), one entry per symbol found, in zbar's order;
    only symbols of ``symbology`` (a key of SYMBOLOGIES) when given. ``[]`` when it finds none."""
    command = ["zbarimg", "--raw", "-q"]
    if symbology:
        command += ["-Sdisable", f"-S{SYMBOLOGIES[symbology]}.enable"]
    result = subprocess.run(command + [str(image)], capture_output=True, text=True, timeout=60)
    if result.returncode == 4:  # zbarimg: no symbol found
        return []
    assert result.returncode == 0, result.stderr
    return result.stdout.removesuffix("\n").split("\n")


def _svg(encoded: str) -> xml.dom.minidom.Document:
    return xml.dom.minidom.parseString(base64.b64decode(encoded))


def _millimetres(value: str) -> float:
    assert value.endswith("mm"), value
    return float(value.removesuffix("mm"))


def _bars(document: xml.dom.minidom.Document) -> list:
    rects = document.getElementsByTagName("rect")
    return [rect for rect in rects if rect.getAttribute("style") == "fill:black;"]


def _barcode_pdf(encoded: str) -> bytes:
    html = f'<img src="data:image/svg+xml;base64,{encoded}" alt="">'
    return weasyprint.HTML(
        string=html, base_url=PDF_BASE_URL, url_fetcher=LocalStaticURLFetcher()
    ).write_pdf()


def test_code128_is_an_svg_of_bars_without_text_or_doctype():
    document = _svg(code128_svg_base64("26TMTMA0100001234C"))

    root = document.documentElement
    assert root.tagName == "svg"
    assert root.getAttribute("xmlns") == "http://www.w3.org/2000/svg"
    assert document.doctype is None
    assert document.getElementsByTagName("text") == []
    assert len(_bars(document)) > 20


def test_code128_modules_are_a_third_of_a_millimetre_with_a_quiet_zone_either_side():
    document = _svg(code128_svg_base64("26TMTMA0100001234C"))

    bars = _bars(document)
    widths = {round(_millimetres(bar.getAttribute("width")) / CODE128_MODULE_WIDTH_MM, 6) for bar in bars}
    first = _millimetres(bars[0].getAttribute("x"))
    last = bars[-1]
    end = _millimetres(last.getAttribute("x")) + _millimetres(last.getAttribute("width"))
    width = _millimetres(document.documentElement.getAttribute("width"))
    assert widths <= {1.0, 2.0, 3.0, 4.0}  # Code 128 bars are 1 to 4 modules wide
    assert first == 6.5
    assert round(width - end, 3) == 6.5
    assert {_millimetres(bar.getAttribute("height")) for bar in bars} == {15.0}
    assert _millimetres(document.documentElement.getAttribute("height")) == 15.0


def test_code128_module_size_can_be_chosen():
    document = _svg(code128_svg_base64("12345678", module_width=0.5, module_height=10))

    bars = _bars(document)
    assert min(_millimetres(bar.getAttribute("width")) for bar in bars) == 0.5
    assert {_millimetres(bar.getAttribute("height")) for bar in bars} == {10.0}
    assert _millimetres(bars[0].getAttribute("x")) == 6.5


def test_code128_refuses_a_character_it_cannot_encode():
    with pytest.raises(IllegalCharacterError):
        code128_svg_base64("ÄÖ-Таможня")


def test_code128_is_drawn_by_weasyprint_at_its_own_size(decoders, tmp_path, caplog):
    caplog.set_level(logging.WARNING, logger="weasyprint")
    encoded = code128_svg_base64("26TMTMA0100001234C")
    bars = _bars(_svg(encoded))
    first = _millimetres(bars[0].getAttribute("x"))
    end = _millimetres(bars[-1].getAttribute("x")) + _millimetres(bars[-1].getAttribute("width"))

    image = Image.open(page_png(_barcode_pdf(encoded), tmp_path, resolution=200)).convert("L")

    # The bars are all there is on the page: the box around the dark pixels is the barcode's.
    left, top, right, bottom = ImageOps.invert(image).point(lambda value: 255 if value > 127 else 0).getbbox()
    millimetres_per_pixel = 25.4 / 200
    assert [record.getMessage() for record in caplog.records] == []
    assert abs((right - left) * millimetres_per_pixel - (end - first)) < 0.3  # within 2 pixels
    assert abs((bottom - top) * millimetres_per_pixel - 15.0) < 0.3


@pytest.mark.parametrize(
    "text", ["26TMTMA0100001234C", "26TM0001000000001K", "LRN-2026/000042", "0123456789"]
)
def test_code128_printed_by_weasyprint_decodes_to_exactly_the_text(decoders, tmp_path, text):
    image = page_png(_barcode_pdf(code128_svg_base64(text)), tmp_path)

    assert decode(image, "code128") == [text]
    assert decode(image) == [text]  # and nothing else is read as a code

"""Printed documents: Latin, Cyrillic and Turkmen letters come out of the PDF exactly, in the bundled
DejaVu fonts, and a document never fetches anything from the network."""

import io
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pypdf
import pytest
from fontTools.ttLib import TTFont

from customs.pdf import LocalStaticURLFetcher, ResourceRefused, page_counter_content, render_pdf

TEXT = "Türkmenbaşy gümrük — Таможня — ŇňÝýŽžŞşÄä ÖöÜüÇç"


def _reader(pdf: bytes) -> pypdf.PdfReader:
    return pypdf.PdfReader(io.BytesIO(pdf))


def _embedded_fonts(pdf: bytes) -> list[tuple[str, str]]:
    """(PDF font name without the subset tag, family and style from the embedded font file) per font."""
    fonts = []
    for font in _reader(pdf).pages[0]["/Resources"]["/Font"].values():
        font = font.get_object()
        descriptor = font["/DescendantFonts"][0].get_object()["/FontDescriptor"].get_object()
        names = TTFont(io.BytesIO(descriptor["/FontFile2"].get_object().get_data()))["name"]
        fonts.append((font["/BaseFont"].split("+", 1)[1], names.getDebugName(4)))
    return sorted(fonts)


@pytest.mark.parametrize("language", ["en", "ru", "tk"])
def test_sample_prints_latin_cyrillic_and_turkmen_letters_exactly(language):
    pdf = render_pdf("customs/pdf/sample.html", {"text": TEXT}, language=language)

    reader = _reader(pdf)
    lines = reader.pages[0].extract_text().splitlines()
    assert pdf.startswith(b"%PDF-")
    assert len(reader.pages) == 1
    assert lines.count(TEXT) == 3  # regular, bold and monospace


@pytest.mark.parametrize("language", ["en", "ru", "tk"])
def test_sample_embeds_the_bundled_dejavu_fonts(language):
    pdf = render_pdf("customs/pdf/sample.html", {"text": TEXT}, language=language)

    assert _embedded_fonts(pdf) == [
        ("Kerwen-DejaVu-Sans", "DejaVu Sans"),
        ("Kerwen-DejaVu-Sans-Bold", "DejaVu Sans Bold"),
        ("Kerwen-DejaVu-Sans-Mono", "DejaVu Sans Mono"),
    ]


def test_english_sample_has_title_header_and_page_counter():
    pdf = render_pdf("customs/pdf/sample.html", {"text": TEXT}, language="en")

    reader = _reader(pdf)
    lines = reader.pages[0].extract_text().splitlines()
    assert reader.metadata.title == "Sample document"
    assert lines[0] == "Sample document"
    assert "Kerwen Sample document" in lines
    assert lines[-1].endswith(" Page 1 of 1")
    assert lines[-1].startswith("Printed on ")


def test_page_counter_is_css_with_the_translated_words():
    assert page_counter_content() == '"Page " counter(page) " of " counter(pages)'


class _RecordingHandler(BaseHTTPRequestHandler):
    requests: list[str] = []

    def do_GET(self):
        self.requests.append(self.path)
        self.send_response(200)
        self.send_header("Content-Type", "text/css")
        self.end_headers()
        self.wfile.write(b"body { color: red; }")

    def log_message(self, format, *args):
        pass


@pytest.fixture
def http_server():
    _RecordingHandler.requests = []
    server = ThreadingHTTPServer(("127.0.0.1", 0), _RecordingHandler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}", _RecordingHandler.requests
    server.shutdown()
    server.server_close()
    thread.join(timeout=5)


def test_http_stylesheet_and_image_in_a_document_are_refused_not_fetched(http_server):
    base, requests = http_server

    pdf = render_pdf("customs/pdf/sample.html", {"text": TEXT, "remote_url": base}, language="en")

    assert requests == []
    assert pdf.startswith(b"%PDF-")
    assert _reader(pdf).pages[0].extract_text().splitlines().count(TEXT) == 3


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1/static/css/print.css",
        "https://example.org/logo.png",
        "ftp://example.org/font.ttf",
        "file:///etc/passwd",
        "file:///static/../../../../etc/passwd",
        "file:///static/css/missing.css",
    ],
)
def test_fetcher_refuses_anything_but_local_static_files(url):
    with pytest.raises(ResourceRefused):
        LocalStaticURLFetcher().fetch(url)


def test_fetcher_serves_static_files_and_data_uris():
    fetcher = LocalStaticURLFetcher()

    stylesheet = fetcher.fetch("file:///static/css/print.css")
    font = fetcher.fetch("file:///static/fonts/DejaVuSans.ttf")
    inline = fetcher.fetch("data:text/plain;charset=utf-8,T%C3%BCrkmen")

    assert stylesheet.content_type == "text/css"
    assert b"@font-face" in stylesheet.read()
    assert font.read(4) == b"\x00\x01\x00\x00"  # TrueType
    assert inline.read() == "Türkmen".encode()


def test_unknown_language_is_refused():
    with pytest.raises(ValueError, match="Unknown document language 'de'"):
        render_pdf("customs/pdf/sample.html", {"text": TEXT}, language="de")

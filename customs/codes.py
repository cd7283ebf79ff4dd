"""Machine-readable codes on pages and printed documents: QR codes and Code 128 barcodes as inline SVG (no
file, no network)."""

import base64

import qrcode
from barcode import Code128
from barcode.writer import SVGWriter


def qr_svg_base64(text: str, *, box_size: int = 8) -> str:
    """A QR code of ``text`` (error correction M, the usual 4-module quiet zone) as an SVG image,
    base64-encoded for a ``data:image/svg+xml;base64,`` URI; ``box_size`` tenths of a millimetre a module.

    The dark modules are drawn as one path of horizontal runs, one rectangle per run rather than per
    module: a PDF renderer draws a third as many shapes, which matters for a 93-module code on a
    transit document (WeasyPrint spent about 110 ms on the per-module path of ``qrcode``'s SVG)."""
    code = qrcode.QRCode(error_correction=qrcode.constants.ERROR_CORRECT_M, border=4)
    code.add_data(text)
    code.make(fit=True)
    matrix = code.get_matrix()
    size = len(matrix)
    runs = []
    for y, row in enumerate(matrix):
        x = 0
        while x < size:
            if not row[x]:
                x += 1
                continue
            start = x
            while x < size and row[x]:
                x += 1
            runs.append(f"M{start} {y}h{x - start}v1h-{x - start}z")
    side = f"{size * box_size / 10:g}mm"
    svg = (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{side}" height="{side}" viewBox="0 0 {size} {size}" '
        f'shape-rendering="crispEdges"><rect width="{size}" height="{size}" fill="#fff"/>'
        f'<path d="{"".join(runs)}" fill="#000"/></svg>'
    )
    return base64.b64encode(svg.encode("ascii")).decode()


# Code 128 on a printed A4 page: 0.33 mm modules (13 mil, which every handheld and fixed scanner reads,
# and 2.6 pixels a module in a 200 dpi scan), bars 15 mm high, 6.5 mm of white either side (the symbology
# asks for 10 modules; python-barcode's own default for Code 128, 2.54 mm, is less than that). No text
# under the bars: the document prints the value itself, in its own font, where it wants it.
CODE128_MODULE_WIDTH_MM = 0.33
CODE128_MODULE_HEIGHT_MM = 15.0
CODE128_QUIET_ZONE_MM = 6.5


def code128_svg_base64(
    text: str,
    *,
    module_width: float = CODE128_MODULE_WIDTH_MM,
    module_height: float = CODE128_MODULE_HEIGHT_MM,
) -> str:
    """A Code 128 barcode of ``text`` as an SVG image, base64-encoded for a ``data:image/svg+xml;base64,``
    URI; no human-readable text under the bars.

    The image has its intrinsic size in millimetres (module widths and the quiet zone included) and no
    ``viewBox``: print it at that size, do not scale it. Raises ``barcode.errors.IllegalCharacterError``
    for a character Code 128 cannot encode (anything outside ASCII).
    """
    writer = SVGWriter()
    # One line of XML without DOCTYPE: nothing for an XML parser to resolve, smaller inside the HTML.
    writer.with_doctype = False
    writer.compress = True  # SVGWriter then returns ``toxml()`` (``write`` would gzip it: not used here)
    svg = Code128(text, writer=writer).render(
        {
            "module_width": module_width,
            "module_height": module_height,
            "quiet_zone": max(CODE128_QUIET_ZONE_MM, 10 * module_width),
            "write_text": False,
            "margin_top": 0,
            "margin_bottom": 0,
        }
    )
    return base64.b64encode(svg).decode()

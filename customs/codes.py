"""Machine-readable codes on pages and printed documents: QR codes as inline SVG (no file, no network)."""

import base64
import io

import qrcode
import qrcode.image.svg


def qr_svg_base64(text: str, *, box_size: int = 8) -> str:
    """A QR code of ``text`` as an SVG image, base64-encoded for a ``data:image/svg+xml;base64,`` URI."""
    image = qrcode.make(text, image_factory=qrcode.image.svg.SvgPathImage, box_size=box_size)
    buffer = io.BytesIO()
    image.save(buffer)
    return base64.b64encode(buffer.getvalue()).decode()

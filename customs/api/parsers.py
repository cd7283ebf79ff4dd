"""Request parsers shared by the APIs."""

from rest_framework.parsers import BaseParser

from customs.xmlsafe import DEFAULT_MAX_BYTES


class XmlParser(BaseParser):
    """An XML document as the request body, kept as bytes for ``customs.xmlsafe.xml_parse`` to read
    safely (DRF's own XML handling would parse it unsafely, and too early)."""

    media_type = "application/xml"

    def parse(self, stream, media_type=None, parser_context=None):
        # One byte more than the readers accept, so that they refuse a larger file as too large.
        return stream.read(DEFAULT_MAX_BYTES + 1) if stream is not None else b""


class TextXmlParser(XmlParser):
    media_type = "text/xml"

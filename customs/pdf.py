"""Printed documents: Django templates rendered to PDF with WeasyPrint.

Documents are printed in English, Russian and Turkmen at offices that may have no internet access, so:

- the template is rendered in the language asked for, whatever the language of the request;
- the fonts are the DejaVu files in ``static/fonts/``, embedded through ``@font-face`` in
  ``static/css/print.css``, so a document looks the same whichever server prints it;
- only local static files (and ``data:`` URIs, e.g. an inline QR code) are loaded. An ``http(s)`` or any
  other URL is refused without being fetched, and the document prints without that resource.

A document template extends ``customs/pdf/base.html`` and fills the blocks ``title`` and ``content`` (and
``footer`` to replace the default "Printed on ..." footer). Static files are named with ``{% static %}``
as in any page.
"""

import logging
import mimetypes
import re
from pathlib import Path
from urllib.parse import urlsplit
from urllib.request import url2pathname

import weasyprint
from django.apps import apps
from django.conf import settings
from django.contrib.staticfiles import finders
from django.core.exceptions import SuspiciousFileOperation
from django.template.loader import render_to_string
from django.utils import timezone, translation
from django.utils._os import safe_join
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext
from weasyprint.urls import URLFetcher, URLFetcherResponse

logger = logging.getLogger(__name__)

# Relative and root-relative URLs in a document (``/static/css/print.css`` from ``{% static %}``) resolve
# against this base to ``file:///static/...``, which the fetcher maps to the static file of that name.
PDF_BASE_URL = "file:///"


class ResourceRefused(ValueError):
    """A document asked for a resource that is neither a local static file nor a ``data:`` URI."""


def _static_roots() -> list[Path]:
    """The directories static files come from: STATICFILES_DIRS, each app's ``static``, STATIC_ROOT."""
    roots = []
    for entry in settings.STATICFILES_DIRS:
        roots.append(Path(entry[1] if isinstance(entry, tuple | list) else entry))
    roots.extend(Path(config.path) / "static" for config in apps.get_app_configs())
    if settings.STATIC_ROOT:
        roots.append(Path(settings.STATIC_ROOT))
    return [root.resolve() for root in roots if root.is_dir()]


def static_file_path(url: str) -> Path:
    """The local file a ``file:`` URL of a document stands for, or ``ResourceRefused``.

    ``file:///static/<name>`` (the ``{% static %}`` URL against ``PDF_BASE_URL``) is looked up with the
    static files finders, then in STATIC_ROOT. Any other ``file:`` URL must point inside a static
    directory: a document cannot read other files of the server.
    """
    path = url2pathname(urlsplit(url).path)
    static_prefix = "/" + urlsplit(settings.STATIC_URL).path.strip("/") + "/"
    if path.startswith(static_prefix):
        name = path[len(static_prefix) :]
        try:
            found = finders.find(name)
            if not found and settings.STATIC_ROOT:
                candidate = safe_join(settings.STATIC_ROOT, name)
                found = candidate if Path(candidate).is_file() else None
        except SuspiciousFileOperation as error:
            raise ResourceRefused(f"{url} leaves the static directories") from error
        if not found:
            raise ResourceRefused(f"{url}: no static file {name!r}")
        return Path(found)
    resolved = Path(path).resolve()
    if resolved.is_file() and any(resolved.is_relative_to(root) for root in _static_roots()):
        return resolved
    raise ResourceRefused(f"{url} is not a static file")


class LocalStaticURLFetcher(URLFetcher):
    """WeasyPrint URL fetcher that serves local static files and ``data:`` URIs, and refuses the rest.

    WeasyPrint 70 calls ``fetch(url, headers)`` on an ``URLFetcher`` instance and expects an
    ``URLFetcherResponse``. An exception raised here is caught by WeasyPrint, which logs a warning and
    renders the document without the resource; nothing is ever requested over the network.
    """

    def fetch(self, url, headers=None):
        scheme = urlsplit(url).scheme.lower()
        if scheme == "data":
            return super().fetch(url, headers)
        try:
            if scheme != "file":
                raise ResourceRefused(f"{url}: printed documents load local static files only")
            path = static_file_path(url)
        except ResourceRefused as refused:
            logger.warning("PDF resource refused: %s", refused)
            raise
        content_type = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
        return URLFetcherResponse(url, body=path.read_bytes(), headers={"Content-Type": content_type})


def _css_string(text: str) -> str:
    """``text`` as a double-quoted CSS string, safe inside a ``<style>`` element."""
    escaped = []
    for char in text:
        if char in '"\\<>&' or ord(char) < 0x20 or ord(char) == 0x7F:
            escaped.append(f"\\{ord(char):x} ")
        else:
            escaped.append(char)
    return '"' + "".join(escaped) + '"'


def page_counter_content() -> SafeString:
    """The CSS ``content`` value for the translated "Page X of Y" in the current language."""
    # Translators: page numbering at the bottom of printed documents. Keep %(page)s and %(pages)s.
    label = gettext("Page %(page)s of %(pages)s")
    tokens = []
    for part in re.split(r"(%\(pages?\)s)", label):
        if part == "%(page)s":
            tokens.append("counter(page)")
        elif part == "%(pages)s":
            tokens.append("counter(pages)")
        elif part:
            tokens.append(_css_string(part))
    return mark_safe(" ".join(tokens))


def render_pdf(template_name: str, context: dict, *, language: str, base_url=None) -> bytes:
    """Render the Django template ``template_name`` in ``language`` and return the PDF bytes.

    ``language`` is one of ``settings.LANGUAGES`` (the language of the document, not of the request).
    ``base_url`` resolves relative URLs in the document; by default ``{% static %}`` URLs resolve to
    the local static files. The template gets, besides ``context``: ``pdf_page_counter`` (used by
    ``customs/pdf/base.html``) and ``pdf_printed_at`` (the local time of printing).
    """
    if language not in dict(settings.LANGUAGES):
        raise ValueError(f"Unknown document language {language!r}")
    with translation.override(language):
        full_context = {
            "pdf_page_counter": page_counter_content(),
            "pdf_printed_at": timezone.localtime(),
            **context,
        }
        html = render_to_string(template_name, full_context)
        document = weasyprint.HTML(
            string=html, base_url=base_url or PDF_BASE_URL, url_fetcher=LocalStaticURLFetcher()
        )
        return document.write_pdf()

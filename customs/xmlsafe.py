"""Parsing XML from outside safely, and validating it against local XML schemas.

Every XML file that reaches Kerwen from a trader, a broker, a bank or another customs service goes through
``xml_parse``: no entity is expanded, no DTD is loaded, nothing is fetched from the network, and files that
are too large or nested too deeply are refused before they can exhaust memory. Documents whose DOCTYPE
declares entities (billion laughs, external entities such as ``file:///etc/passwd`` or ``http://...``) or
names an external DTD are refused outright, whether or not the entities are used.

Schemas are loaded with ``xml_schema`` once per process, from local files only: an ``xs:include`` or
``xs:import`` outside the schema's directory, or on the network, is refused.
"""

import threading
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from urllib.parse import unquote, urlparse

from django.utils.translation import gettext as _
from lxml import etree

DEFAULT_MAX_BYTES = 16 * 1024 * 1024  # the largest real declaration files are a few MB (190 items: 3.3 MB)
DEFAULT_MAX_DEPTH = 64  # customs messages nest about 10 levels deep
DEFAULT_MAX_PROBLEMS = 100  # a broken file can yield thousands of schema errors; the first ones suffice


class XmlRefused(Exception):
    """The content was refused before it could be read as XML.

    ``code`` is one of ``too_large``, ``too_deep``, ``entities_forbidden``, ``not_well_formed``;
    ``message`` is translated; ``line`` is the line of the problem where known.
    """

    def __init__(self, code: str, message: str, *, line: int | None = None):
        super().__init__(message)
        self.code = code
        self.message = message
        self.line = line


@dataclass(frozen=True)
class XmlProblem:
    """One schema validation error: where (line, and the element's path) and what (libxml2's message,
    which is English: the schema's own wording)."""

    line: int
    message: str
    path: str = ""


def _parser() -> etree.XMLParser:
    # A new parser per call: parsers keep an error log and are not safe to share between threads.
    return etree.XMLParser(
        resolve_entities=False,
        no_network=True,
        load_dtd=False,
        dtd_validation=False,
        huge_tree=False,
        remove_pis=False,
    )


def _refusal_for_syntax_error(error: etree.XMLSyntaxError, parser: etree.XMLParser) -> XmlRefused:
    """Map libxml2's own safety limits to our codes; anything else is a well-formedness error."""
    entries = list(parser.error_log) or []
    messages = " ".join(entry.message for entry in entries) + " " + (error.msg or "")
    lowered = messages.lower()
    line = error.lineno or None
    if "entity" in lowered and ("amplification" in lowered or "loop" in lowered):
        return XmlRefused(
            "entities_forbidden",
            _("The file declares XML entities, which are not accepted (entity expansion attack)."),
            line=line,
        )
    if "excessive depth" in lowered:
        return XmlRefused(
            "too_deep", _("The file nests elements too deeply (line %(line)s).") % {"line": line}, line=line
        )
    if "text node too long" in lowered or "huge" in lowered:
        return XmlRefused(
            "too_large",
            _("The file holds a text that is too long (line %(line)s).") % {"line": line},
            line=line,
        )
    return XmlRefused(
        "not_well_formed",
        _("The file is not well-formed XML: line %(line)s: %(error)s")
        % {"line": line or "?", "error": error.msg or str(error)},
        line=line,
    )


def _refuse_doctype(tree: etree._ElementTree) -> None:
    """Refuse a DOCTYPE that declares entities (internal subset) or points to an external DTD."""
    docinfo = tree.docinfo
    if docinfo.system_url or docinfo.public_id:
        raise XmlRefused(
            "entities_forbidden",
            _("The file refers to an external DTD (%(url)s), which is not accepted.")
            % {"url": docinfo.system_url or docinfo.public_id},
            line=1,
        )
    dtd = docinfo.internalDTD
    if dtd is not None and any(True for _entity in dtd.iterentities()):
        raise XmlRefused(
            "entities_forbidden",
            _("The file declares XML entities in its DOCTYPE, which are not accepted."),
            line=1,
        )


def _refuse_depth(root: etree._Element, max_depth: int) -> None:
    depth = 0
    for event, element in etree.iterwalk(root, events=("start", "end")):
        if event == "start":
            depth += 1
            if depth > max_depth:
                line = element.sourceline
                raise XmlRefused(
                    "too_deep",
                    _("The file nests elements more than %(limit)s levels deep (line %(line)s).")
                    % {"limit": max_depth, "line": line},
                    line=line,
                )
        else:
            depth -= 1


def xml_parse(
    content: bytes, *, max_bytes: int = DEFAULT_MAX_BYTES, max_depth: int = DEFAULT_MAX_DEPTH
) -> etree._ElementTree:
    """Parse untrusted XML ``content`` into an element tree, or raise ``XmlRefused``.

    Refused: more than ``max_bytes`` bytes (checked before parsing), elements nested more than
    ``max_depth`` levels, any DOCTYPE with entity declarations or an external DTD, and anything that
    is not well-formed XML (with the line number). Comments and processing instructions are kept.
    """
    if not isinstance(content, bytes | bytearray | memoryview):
        raise TypeError(f"xml_parse takes bytes, not {type(content).__name__}")
    content = bytes(content)
    if len(content) > max_bytes:
        raise XmlRefused(
            "too_large",
            _("The file is %(size)s bytes long; at most %(limit)s bytes are accepted.")
            % {"size": len(content), "limit": max_bytes},
        )
    if not content.strip():
        raise XmlRefused("not_well_formed", _("The file is empty."), line=1)
    parser = _parser()
    try:
        root = etree.fromstring(content, parser=parser)
    except etree.XMLSyntaxError as error:
        raise _refusal_for_syntax_error(error, parser) from None
    tree = root.getroottree()
    _refuse_doctype(tree)
    _refuse_depth(root, max_depth)
    return tree


class _LocalFilesOnly(etree.Resolver):
    """Resolves schema includes and imports to files under ``root``; refuses the network and other
    places, remembering what it refused so that ``xml_schema`` can say so."""

    def __init__(self, root: Path):
        super().__init__()
        self.root = root
        self.refused: list[str] = []

    def resolve(self, url, public_id, context):
        parsed = urlparse(url or "")
        if parsed.scheme not in ("", "file") or parsed.netloc not in ("", "localhost"):
            self.refused.append(url)
            return self.resolve_string("", context)
        path = Path(unquote(parsed.path)).resolve()
        if not path.is_relative_to(self.root) or not path.is_file():
            self.refused.append(url)
            return self.resolve_string("", context)
        return self.resolve_filename(str(path), context)


@cache
def _schema(path: str, root: str) -> etree.XMLSchema:
    resolver = _LocalFilesOnly(Path(root))
    parser = _parser()
    parser.resolvers.add(resolver)
    try:
        document = etree.parse(path, parser)
        schema = etree.XMLSchema(document)
    except (etree.XMLSyntaxError, etree.XMLSchemaParseError) as error:
        if resolver.refused:
            raise ValueError(f"schema {path} refers to files outside {root}: {resolver.refused}") from error
        raise
    if resolver.refused:
        raise ValueError(f"schema {path} refers to files outside {root}: {resolver.refused}")
    return schema


def xml_schema(path: str | Path, *, root: str | Path | None = None) -> etree.XMLSchema:
    """The XML schema at ``path``, compiled once per process (it may include other schema files).

    Included and imported files are read only from ``root`` (by default the schema's own directory) and
    never from the network; a schema that refers elsewhere raises ``ValueError``.
    """
    path = Path(path).resolve()
    root = Path(root).resolve() if root is not None else path.parent
    return _schema(str(path), str(root))


# XMLSchema keeps the error log of its last validation on the object itself: validation and reading
# the log must not interleave between threads.
_validation_lock = threading.Lock()


def xml_validate(
    tree: etree._ElementTree | etree._Element,
    schema: etree.XMLSchema,
    *,
    max_problems: int = DEFAULT_MAX_PROBLEMS,
) -> list[XmlProblem]:
    """The schema errors of ``tree``, in document order, at most ``max_problems``; empty when valid."""
    with _validation_lock:
        if schema.validate(tree):
            return []
        entries = list(schema.error_log)
    return [
        XmlProblem(line=entry.line, message=entry.message, path=entry.path or "")
        for entry in entries[:max_problems]
    ]

"""Hostile XML is refused with a clear reason; schemas load from local files only."""

import socket
import time
from contextlib import contextmanager

import pytest
from lxml import etree

from customs.xmlsafe import XmlProblem, XmlRefused, xml_parse, xml_schema, xml_validate

BILLION_LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE lolz [
 <!ENTITY lol "lol">
 <!ENTITY lol1 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol2 "&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
 <!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
 <!ENTITY lol5 "&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;">
 <!ENTITY lol6 "&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;">
 <!ENTITY lol7 "&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;">
 <!ENTITY lol8 "&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;">
 <!ENTITY lol9 "&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;">
]>
"""


def refused(content: bytes, **limits) -> XmlRefused:
    with pytest.raises(XmlRefused) as caught:
        xml_parse(content, **limits)
    return caught.value


@contextmanager
def listening_server():
    """A local TCP server that nobody should connect to; yields (url, connected()).

    A connection attempt completes in the kernel's backlog, so a non-blocking accept after the parse
    tells, without waiting, whether the parser reached out."""
    server = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    server.bind(("127.0.0.1", 0))
    server.listen(8)
    server.setblocking(False)

    def connected() -> bool:
        try:
            connection, _address = server.accept()
        except BlockingIOError:
            return False
        connection.close()
        return True

    try:
        yield f"http://127.0.0.1:{server.getsockname()[1]}/evil", connected
    finally:
        server.close()


def test_plain_xml_is_parsed_into_a_tree():
    tree = xml_parse(b'<?xml version="1.0" encoding="UTF-8"?>\n<a><!-- note --><b x="1">text</b></a>')

    assert isinstance(tree, etree._ElementTree)
    assert tree.getroot().tag == "a"
    assert tree.getroot().find("b").text == "text"


def test_a_doctype_without_entities_is_accepted():
    assert xml_parse(b"<!DOCTYPE r><r>a</r>").getroot().text == "a"


def test_billion_laughs_in_content_is_refused_at_once():
    started = time.perf_counter()

    error = refused(BILLION_LAUGHS + b"<lolz>&lol9;</lolz>")

    assert error.code == "entities_forbidden"
    assert "entities" in error.message
    assert time.perf_counter() - started < 1


def test_billion_laughs_in_an_attribute_is_refused_at_once():
    started = time.perf_counter()

    error = refused(BILLION_LAUGHS + b'<lolz a="&lol9;"/>')

    assert error.code == "entities_forbidden"
    assert time.perf_counter() - started < 1


def test_declared_but_unused_entities_are_refused():
    assert refused(b'<!DOCTYPE r [<!ENTITY a "b">]><r>plain</r>').code == "entities_forbidden"


def test_an_entity_loop_is_refused():
    assert (
        refused(b'<!DOCTYPE r [<!ENTITY a "&b;"><!ENTITY b "&a;">]><r>&a;</r>').code == "entities_forbidden"
    )


def test_xxe_file_entity_is_refused_without_reading_the_file(tmp_path):
    secret = tmp_path / "secret.txt"
    secret.write_text("the-secret-password")
    content = f'<!DOCTYPE r [<!ENTITY x SYSTEM "file://{secret}">]><r>&x;</r>'.encode()

    error = refused(content)

    assert error.code == "entities_forbidden"
    assert "the-secret-password" not in error.message


def test_xxe_parameter_entity_is_refused(tmp_path):
    secret = tmp_path / "secret.dtd"
    secret.write_text('<!ENTITY leak "the-secret-password">')
    content = f'<!DOCTYPE r [<!ENTITY % x SYSTEM "file://{secret}"> %x;]><r>&leak;</r>'.encode()

    error = refused(content)

    assert error.code == "entities_forbidden"
    assert "the-secret-password" not in error.message


def test_xxe_http_entity_is_refused_without_connecting():
    with listening_server() as (url, connected):
        error = refused(f'<!DOCTYPE r [<!ENTITY x SYSTEM "{url}">]><r>&x;</r>'.encode())

        assert error.code == "entities_forbidden"
        assert not connected()


def test_an_external_dtd_is_refused_without_connecting():
    with listening_server() as (url, connected):
        error = refused(f'<!DOCTYPE r SYSTEM "{url}"><r>a</r>'.encode())

        assert error.code == "entities_forbidden"
        assert url in error.message
        assert not connected()


def test_a_huge_file_is_refused_before_parsing():
    content = b"<a>" + b"x" * (16 * 1024 * 1024) + b"</a>"

    error = refused(content)

    assert error.code == "too_large"
    assert str(16 * 1024 * 1024) in error.message


def test_the_size_limit_can_be_lowered():
    assert refused(b"<a>0123456789</a>", max_bytes=10).code == "too_large"
    assert xml_parse(b"<a>0123456789</a>", max_bytes=17).getroot().text == "0123456789"


def test_a_huge_text_node_within_the_size_limit_is_refused():
    assert refused(b"<a>" + b"x" * (11 * 1024 * 1024) + b"</a>").code == "too_large"


def test_nesting_deeper_than_the_limit_is_refused_with_the_line():
    content = b"<a>\n" * 6 + b"</a>" * 6

    error = refused(content, max_depth=5)

    assert error.code == "too_deep"
    assert error.line == 6
    assert xml_parse(content, max_depth=6).getroot().tag == "a"


def test_a_very_deep_file_is_refused():
    error = refused(b"<a>" * 100_000 + b"</a>" * 100_000)

    assert error.code == "too_deep"


def test_malformed_xml_is_refused_with_its_line_number():
    error = refused(b'<?xml version="1.0"?>\n<a>\n  <b>\n</a>\n')

    assert error.code == "not_well_formed"
    assert error.line == 4
    assert "line 4" in error.message


def test_an_empty_file_is_not_well_formed():
    assert refused(b"  \n").code == "not_well_formed"


def test_text_is_not_accepted_only_bytes():
    with pytest.raises(TypeError):
        xml_parse("<a/>")


# --- schemas ----------------------------------------------------------------------------------------------

MAIN_SCHEMA = """<?xml version="1.0"?>
<xs:schema xmlns:xs="http://www.w3.org/2001/XMLSchema">
  <xs:include schemaLocation="{include}"/>
  <xs:element name="order">
    <xs:complexType>
      <xs:sequence>
        <xs:element name="number" type="Number" maxOccurs="unbounded"/>
      </xs:sequence>
    </xs:complexType>
  </xs:element>
</xs:schema>
"""
INCLUDED_SCHEMA = """<?xml version="1.0"?>
<xs:schema xmlns:xs="http://www.w3.org/2001/XMLSchema">
  <xs:simpleType name="Number">
    <xs:restriction base="xs:string"><xs:pattern value="[0-9]{3}"/></xs:restriction>
  </xs:simpleType>
</xs:schema>
"""


@pytest.fixture
def schema_path(tmp_path):
    directory = tmp_path / "schemas"
    directory.mkdir()
    (directory / "types.xsd").write_text(INCLUDED_SCHEMA)
    path = directory / "order.xsd"
    path.write_text(MAIN_SCHEMA.format(include="types.xsd"))
    return path


def test_a_schema_with_includes_is_loaded_once(schema_path):
    schema = xml_schema(schema_path)

    assert isinstance(schema, etree.XMLSchema)
    assert xml_schema(str(schema_path)) is schema


def test_validation_gives_lines_paths_and_messages(schema_path):
    tree = xml_parse(b"<order>\n<number>123</number>\n<number>12x</number>\n</order>")

    problems = xml_validate(tree, xml_schema(schema_path))

    assert problems == [
        XmlProblem(
            line=3,
            message="Element 'number': [facet 'pattern'] The value '12x' is not accepted by the pattern "
            "'[0-9]{3}'.",
            path="/order/number[2]",
        )
    ]


def test_a_valid_document_has_no_problems(schema_path):
    assert xml_validate(xml_parse(b"<order><number>123</number></order>"), xml_schema(schema_path)) == []


def test_the_number_of_problems_is_capped(schema_path):
    tree = xml_parse(b"<order>" + b"<number>x</number>" * 500 + b"</order>")

    assert len(xml_validate(tree, xml_schema(schema_path), max_problems=7)) == 7


def test_a_schema_including_a_file_outside_its_directory_is_refused(tmp_path):
    (tmp_path / "types.xsd").write_text(INCLUDED_SCHEMA)
    directory = tmp_path / "schemas"
    directory.mkdir()
    path = directory / "order.xsd"
    path.write_text(MAIN_SCHEMA.format(include="../types.xsd"))

    with pytest.raises(ValueError, match="outside"):
        xml_schema(path)
    assert isinstance(xml_schema(path, root=tmp_path), etree.XMLSchema)


def test_a_schema_including_a_network_file_is_refused_without_connecting(tmp_path):
    with listening_server() as (url, connected):
        path = tmp_path / "order.xsd"
        path.write_text(MAIN_SCHEMA.format(include=url))

        with pytest.raises(ValueError, match="outside"):
            xml_schema(path)
        assert not connected()

"""The portal's imports of declaration files: the upload form (errors next to their fields, nothing
stored when refused), the import page while the file is read, its report once read (flagged points, what
lodging would say, the file's taxes beside Kerwen's, the draft), a refused file with its problems by
line, the list, the notice on the draft, and who sees what."""

import html as html_module
import re

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from declarations.models import Declaration, DeclarationImport
from declarations.services.imports import declaration_import_request, declaration_import_run
from tests.declarations.exchange import conftest as exchange_conftest

# The sample files of ../shared/data (fixture of the declarations exchange tests).
asycuda_dir = exchange_conftest.asycuda_dir

pytestmark = pytest.mark.django_db

SAMPLE = "grenada_autobot_Asycuda421Sample5.xml"
TRADER_A = "101012345678"
TRADER_B = "101098765432"
BROKEN = b"<ASYCUDA>\n<Item>\n</ASYCUDA>"


def _html(response) -> str:
    return response.content.decode()


def _text(fragment: str) -> str:
    return html_module.unescape(" ".join(re.sub(r"<[^>]+>", " ", fragment).split()))


def _errors_of(html: str, input_id: str) -> list[str]:
    """The messages Django renders next to the input ``input_id`` (its ``<ul id="..._error">``)."""
    match = re.search(r'<ul class="errorlist" id="' + re.escape(input_id) + r'_error">(.*?)</ul>', html, re.S)
    return (
        [html_module.unescape(text) for text in re.findall(r"<li>(.*?)</li>", match.group(1))]
        if match
        else []
    )


def _table_rows(html: str, table_id: str) -> list[str]:
    """The text of each body row of the table ``table_id``."""
    match = re.search(r'<table id="' + re.escape(table_id) + r'">(.*?)</table>', html, re.S)
    assert match, f"no table #{table_id}"
    body = re.search(r"<tbody>(.*?)</tbody>", match.group(1), re.S)
    return [_text(row) for row in re.findall(r"<tr[^>]*>(.*?)</tr>", body.group(1), re.S)]


def _upload(client, content: bytes, *, name=SAMPLE, trader=TRADER_A, office="TMA01"):
    data = {"trader": trader, "office": office}
    if content is not None:
        data["file"] = SimpleUploadedFile(name, content, content_type="application/xml")
    return client.post(reverse("portal:declaration-import"), data)


def _imported(world, content: bytes, *, user="broker", name=SAMPLE) -> DeclarationImport:
    """An import read as the worker reads it."""
    record = declaration_import_request(
        actor=world["users"][user], content=content, filename=name, trader_code=TRADER_A, office_code="TMA01"
    )
    declaration_import_run(record.pk)
    record.refresh_from_db()
    return record


def _page(client, record):
    return client.get(reverse("portal:declaration-import-detail", args=[record.pk]))


def test_the_upload_form_offers_the_traders_the_broker_declares_for_and_the_offices(client, world):
    client.force_login(world["users"]["broker"])

    response = client.get(reverse("portal:declaration-import"))

    html = _html(response)
    trader_select = re.search(r'<select name="trader"[^>]*>(.*?)</select>', html, re.S).group(1)
    office_select = re.search(r'<select name="office"[^>]*>(.*?)</select>', html, re.S).group(1)
    assert response.status_code == 200
    assert '<label for="id_file">Declaration file (XML)</label>' in html
    assert '<input type="file" name="file"' in html
    assert '<label for="id_trader">Trader</label>' in html
    assert '<label for="id_office">Customs office</label>' in html
    assert re.findall(r'<option value="([^"]*)"', trader_select) == ["", TRADER_A]
    assert "Use the file&#x27;s trader" in trader_select
    assert "Altyn Asyr HJ (101012345678)" in trader_select
    assert re.findall(r'<option value="([^"]*)"', office_select) == ["", "TMA01", "TMT01"]


def test_an_uploaded_file_is_kept_queued_and_the_import_page_says_it_is_being_read(
    client, world, asycuda_dir, django_capture_on_commit_callbacks
):
    client.force_login(world["users"]["broker"])
    content = (asycuda_dir / SAMPLE).read_bytes()

    with django_capture_on_commit_callbacks() as callbacks:
        response = _upload(client, content)

    record = DeclarationImport.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("portal:declaration-import-detail", args=[record.pk])
    assert (record.status, record.filename, bytes(record.content)) == ("pending", SAMPLE, content)
    assert (record.uploaded_by, record.trader, record.office) == (
        world["users"]["broker"],
        world["trader_a"],
        world["office"],
    )
    assert len(callbacks) == 1  # the import task, sent on commit
    page = _page(client, record)
    html = _html(page)
    assert page.status_code == 200
    assert page["Refresh"] == "2"
    assert '<meta http-equiv="refresh" content="2">' in html
    assert 'id="import-pending"' in html
    assert "The file is being read" in html
    assert '<progress id="import-progress">' in html
    assert 'data-status="pending"' in html and ">Being read</span>" in html
    assert 'id="import-flagged"' not in html


def test_the_read_import_shows_the_report_the_tax_comparison_and_the_draft(client, world, asycuda_dir):
    client.force_login(world["users"]["broker"])
    upload = _upload(client, (asycuda_dir / SAMPLE).read_bytes())
    record = DeclarationImport.objects.get()
    assert upload.status_code == 302
    assert declaration_import_run(record.pk) == "done"  # what the worker does
    record.refresh_from_db()

    response = _page(client, record)

    html = _html(response)
    draft = record.declaration
    flagged = _table_rows(html, "flagged-list")
    taxes = _table_rows(html, "tax-comparison")
    assert response.status_code == 200
    assert "Refresh" not in response
    assert 'http-equiv="refresh"' not in html
    assert f'id="import-draft-link" href="{reverse("portal:declaration-detail", args=[draft.pk])}"' in html
    assert _text(re.search(r'id="import-items">(.*?)</dd>', html).group(1)) == "3"
    assert _text(re.search(r'id="import-format">(.*?)</dd>', html).group(1)) == "ASYCUDA World XML"
    assert "Needs your attention: 15 points" in html
    # Flagged come first of the report's tables, each with its field in words, its value and the advice.
    assert html.index('id="import-flagged"') < html.index('id="import-lodgement"')
    assert html.index('id="import-lodgement"') < html.index('id="tax-comparison"')
    assert len(flagged) == 15
    assert flagged[6] == (
        "Item 1: procedure (CPC) 7000 7000 is not in Kerwen's code list of procedure codes (CPC): "
        "left empty on the draft; choose the right code."
    )
    assert "Trader X87E329" in flagged[2] and "The draft is for Altyn Asyr HJ, as you chose." in flagged[2]
    assert 'data-field="items[2].origin" data-code="unknown_code"' in html
    # The file's nine tax lines, with Kerwen's beside them (none yet: the draft cannot be assessed).
    assert len(taxes) == 9
    assert taxes[0] == "1 CET 5,560.57 5 278.03 Import duty — — — — Kerwen cannot assess the draft yet."
    # Why, once above the table: the first item the engine cannot assess, by its field in words.
    assert _text(re.search(r'<p class="notice" id="assessment-problem">(.*?)</p>', html, re.S).group(1)) == (
        "Kerwen cannot assess the draft yet. Item 1: commodity code: "
        "There is no commodity code 8504400000 in the tariff"
    )
    assert [row.split()[1] for row in taxes] == ["CET", "CSC", "VAT"] * 3
    assert len(_table_rows(html, "lodgement-errors")) == 8
    assert "8504400000 is not a commodity code of the tariff in force" in html
    assert _text(re.search(r'<dl class="facts" id="file-totals">(.*?)</dl>', html, re.S).group(1)) == (
        "Items 3 Packages 1 Gross mass (kg) 33.6 Invoice amount 2079.5 Invoice currency USD "
        "Customs value 6172.63 Duties and taxes 370.36"
    )
    assert '<details class="risk-details" id="import-mapped">' in html
    assert len(_table_rows(html, "mapped-list")) == len(record.report["mapped"])
    assert len(_table_rows(html, "left-out-list")) == len(record.report["left_out"])
    assert "Kerwen numbers the printed forms itself." in html


def test_a_refused_file_shows_the_reason_and_its_problems_by_line(client, world):
    client.force_login(world["users"]["broker"])
    upload = _upload(client, BROKEN, name="broken.xml")
    record = DeclarationImport.objects.get()
    assert upload.status_code == 302
    assert declaration_import_run(record.pk) == "failed"

    response = _page(client, record)

    html = _html(response)
    assert response.status_code == 200
    assert 'id="import-failed"' in html and "The file is refused" in html
    assert 'data-status="failed"' in html and ">Refused</span>" in html
    assert _table_rows(html, "import-problems") == [
        "3 The file is not well-formed XML: line 3: Opening and ending tag mismatch: Item line 2 and "
        "ASYCUDA, line 3, column 11"
    ]
    assert '<tr data-line="3">' in html
    assert 'id="import-draft-link"' not in html
    assert not Declaration.objects.exists()


def test_no_file_and_a_trader_not_authorised_are_shown_next_to_their_fields(client, world, asycuda_dir):
    client.force_login(world["users"]["broker"])

    without_file = _upload(client, None)
    not_xml = _upload(client, b"%PDF-1.4", name="invoice.pdf")
    other_trader = _upload(client, (asycuda_dir / SAMPLE).read_bytes(), trader=TRADER_B)
    unknown_office = _upload(client, (asycuda_dir / SAMPLE).read_bytes(), office="XX999")

    assert without_file.status_code == 422
    assert _errors_of(_html(without_file), "id_file") == ["Choose an XML file."]
    assert _errors_of(_html(not_xml), "id_file") == ["Choose an XML file (ending in .xml)."]
    assert other_trader.status_code == 422
    assert _errors_of(_html(other_trader), "id_trader") == [
        "You are not authorised to declare for this trader."
    ]
    assert _errors_of(_html(other_trader), "id_file") == []
    assert _errors_of(_html(unknown_office), "id_office") == ["Choose an active customs office."]
    assert 'id="import-errors"' in _html(other_trader)
    assert not DeclarationImport.objects.exists()


def test_imports_are_seen_only_by_their_side(client, world, verified_login):
    record = _imported(world, BROKEN, name="broken.xml")
    other = _imported(world, BROKEN, user="trader_a", name="mine.xml")
    url = reverse("portal:declaration-import-detail", args=[record.pk])

    client.force_login(world["users"]["broker_other"])
    other_broker = client.get(url)
    other_broker_list = _html(client.get(reverse("portal:declaration-import-list")))
    client.force_login(world["users"]["trader_b"])
    other_trader = client.get(url)
    client.force_login(world["users"]["broker"])
    own = client.get(url)
    own_list = _html(client.get(reverse("portal:declaration-import-list")))
    verified_login(client, world["users"]["officer"])
    officer = client.get(url)
    officer_upload = client.get(reverse("portal:declaration-import"))
    client.logout()
    anonymous = client.get(url)

    assert (other_broker.status_code, other_trader.status_code, own.status_code) == (404, 404, 200)
    assert f'data-import="{record.pk}"' in own_list
    assert f'data-import="{other.pk}"' not in own_list
    assert "broken.xml" not in other_broker_list
    assert (officer.status_code, officer_upload.status_code) == (403, 403)
    assert "The portal screens are for traders and customs brokers." in _html(officer)
    assert anonymous.status_code == 302 and anonymous["Location"].startswith("/accounts/login/")


def test_the_list_and_the_draft_lead_to_the_import(client, world, asycuda_dir):
    record = _imported(world, (asycuda_dir / SAMPLE).read_bytes())
    client.force_login(world["users"]["broker"])
    with CaptureQueriesContext(connection) as one_import:
        client.get(reverse("portal:declaration-import-list"))
    for _number in range(3):
        _imported(world, BROKEN, name="broken.xml")

    declarations = _html(client.get(reverse("portal:declaration-list")))
    with CaptureQueriesContext(connection) as four_imports:
        imports = _html(client.get(reverse("portal:declaration-import-list")))
    draft = _html(client.get(reverse("portal:declaration-detail", args=[record.declaration.pk])))

    import_url = reverse("portal:declaration-import-detail", args=[record.pk])
    assert f'id="import-declaration" href="{reverse("portal:declaration-import")}"' in declarations
    assert len(four_imports) == len(one_import)
    assert _table_rows(imports, "import-list")[-1].startswith(f"{SAMPLE} Draft made ASYCUDA World XML")
    assert _table_rows(imports, "import-list")[0].startswith("broken.xml Refused — ")
    assert f'href="{import_url}"' in imports
    notice = re.search(r'<p class="notice import-attention" id="import-notice">(.*?)</p>', draft, re.S)
    assert notice is not None
    assert f'<a href="{import_url}">' in notice.group(1)
    assert _text(notice.group(1)) == f"Imported from {SAMPLE}: 15 points need your attention"

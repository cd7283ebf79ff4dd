"""Printed documents of a declaration: the assessment notice and the SAD printout, rendered by the task
service to real PDFs (read back with pypdf), asked for and fetched through the views."""

import io
import re

import pypdf
import pytest
from django.db import transaction
from django.urls import reverse

from customs.celery import app
from customs.models import AuditEvent
from declarations.models import Declaration, DeclarationPrint
from declarations.services import printing
from declarations.services.drafts import declaration_create
from declarations.services.errors import NotAuthorised
from declarations.services.lifecycle import declaration_lodge
from declarations.services.printing import (
    PrintNotAvailable,
    declaration_print_render,
    declaration_print_request,
    declaration_print_sweep,
)
from tests.declarations.conftest import CAR, declaration_data
from tests.waiting import wait_for

NOTICE = DeclarationPrint.Kind.ASSESSMENT_NOTICE
SAD = DeclarationPrint.Kind.SAD


@pytest.fixture(autouse=True)
def _media_root(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture
def sent_tasks(monkeypatch):
    """The (task name, args) sent to the broker; nothing reaches Redis."""
    sent = []
    monkeypatch.setattr(
        app, "send_task", lambda name, args=(), kwargs=None, **options: sent.append((name, tuple(args)))
    )
    return sent


@pytest.fixture
def assessed(world):
    """The car example of test_lodgement, lodged by trader A: registered and assessed."""
    trader = world["users"]["trader_a"]
    draft = declaration_create(actor=trader, data=declaration_data())
    return declaration_lodge(actor=trader, declaration=draft)


def _text(pdf: bytes) -> str:
    """The text of every page; runs of spaces made one (pypdf puts two after a box number)."""
    reader = pypdf.PdfReader(io.BytesIO(pdf))
    return re.sub(r"[ \t]+", " ", "\n".join(page.extract_text() for page in reader.pages))


def _rendered(actor, declaration, kind, language="en") -> tuple[DeclarationPrint, str]:
    document = declaration_print_request(actor=actor, declaration=declaration, kind=kind, language=language)
    assert declaration_print_render(document.pk) == "ready"
    document.refresh_from_db()
    with document.file.open("rb") as file:
        pdf = file.read()
    assert pdf.startswith(b"%PDF-")
    return document, _text(pdf)


@pytest.mark.django_db
def test_request_creates_a_pending_document_and_sends_the_render_task_on_commit(
    assessed, world, sent_tasks, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        document = declaration_print_request(
            actor=world["users"]["trader_a"], declaration=assessed, kind=NOTICE, language="ru"
        )

    assert len(callbacks) == 1
    assert sent_tasks == [("declarations.render_print", (document.pk,))]
    assert document.status == DeclarationPrint.Status.PENDING
    assert (document.kind, document.language, document.declaration_version) == (
        NOTICE,
        "ru",
        assessed.version,
    )
    assert document.requested_by == world["users"]["trader_a"]
    event = AuditEvent.objects.get(action="declarations.print.requested")
    assert (event.object_id, event.actor, event.office_code) == (
        str(document.pk),
        document.requested_by,
        "TMA01",
    )
    assert event.after == {
        "kind": "assessment_notice",
        "language": "ru",
        "declaration_version": assessed.version,
    }


@pytest.mark.django_db
def test_asking_again_gets_the_same_document_and_sends_nothing(
    assessed, world, sent_tasks, django_capture_on_commit_callbacks
):
    trader = world["users"]["trader_a"]
    first = declaration_print_request(actor=trader, declaration=assessed, kind=SAD, language="en")

    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        again = declaration_print_request(actor=trader, declaration=assessed, kind=SAD, language="en")

    assert again.pk == first.pk
    assert callbacks == []
    assert sent_tasks == []
    assert DeclarationPrint.objects.count() == 1
    assert AuditEvent.objects.filter(action="declarations.print.requested").count() == 1


@pytest.mark.django_db
def test_assessment_notice_shows_numbers_every_tax_fee_total_and_rates(assessed, world):
    document, text = _rendered(world["users"]["trader_a"], assessed, NOTICE)

    year = world["today"].year
    assert document.status == DeclarationPrint.Status.READY
    assert document.rendered_at is not None
    assert document.file.name.endswith(f"assessment-notice-tma01-{year}-a-1-en.pdf")
    assert "Assessment notice" in text
    assert f"TMA01 {year} A 1" in text
    assert f"TMA01 {year} C 1" in text
    assert CAR in text
    assert "Passenger car, petrol, 1,500 cc" in text
    assert "35,000.00 TMT" in text  # customs value of the item and of the declaration
    for amount in ("3,500.00", "1,925.00", "6,063.75", "70.00"):
        assert text.count(amount) >= 2, amount  # in its tax line and in the totals
    assert "38,500.00" in text  # the excise base
    assert "40,425.00" in text  # the VAT base
    assert "Total to pay 11,558.75 TMT" in text
    assert "Import duty" in text
    assert "Excise" in text
    assert "VAT" in text
    assert "USD 3.5000" in text
    assert "EUR 4.0000" in text
    assert "rounded once" in text
    assert "half up" in text
    assert "Altyn Asyr HJ (101012345678)" in text


@pytest.mark.django_db
def test_sad_has_its_numbered_boxes_lrn_and_commodity_code(assessed, world):
    document, text = _rendered(world["users"]["trader_a"], assessed, SAD)
    flat = " ".join(text.split())  # a label may wrap in its box

    assert document.file.name.endswith(f"sad-tma01-{world['today'].year}-c-1-en.pdf")
    assert "Single Administrative Document" in text
    for label in (
        "1 Declaration type",
        "2 Exporter/consignor",
        "3 Forms",
        "5 Items",
        "6 Total packages",
        "7 Reference number (LRN)",
        "8 Consignee/importer",
        "14 Declarant/representative",
        "15 Country of dispatch/export",
        "17 Country of destination",
        "22 Currency and total amount invoiced",
        "23 Exchange rate",
        "25 Mode of transport at the border",
        "29 Office of entry/exit",
        "30 Location of goods",
        "31 Packages and description of goods",
        "32 Item number",
        "33 Commodity code",
        "34 Country of origin code",
        "35 Gross mass (kg)",
        "37 Procedure",
        "38 Net mass (kg)",
        "41 Supplementary units",
        "42 Item price",
        "44 Additional information/documents produced",
        "46 Statistical value",
        "47 Calculation of taxes",
        "B Accounting details",
    ):
        assert label in flat, label
    assert "LRN-0001" in text
    assert CAR in text
    assert "Shanghai Motors Ltd" in text
    assert "USD 10,000.00" in text
    assert "11,558.75 TMT" in text
    assert "DRAFT" not in text


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("language", "labels"),
    [
        ("ru", ["Единый административный документ", "Код товара", "Отправитель/экспортёр"]),
        ("tk", ["Ýeke-täk administratiw resminama", "Harydyň kody", "Iberiji/eksportçy"]),
    ],
)
def test_sad_in_russian_and_turkmen_has_translated_box_labels(assessed, world, language, labels):
    document, text = _rendered(world["users"]["trader_a"], assessed, SAD, language=language)
    flat = " ".join(text.split())

    assert document.language == language
    for label in labels:
        assert label in flat, label
    assert "Commodity code" not in text
    assert "LRN-0001" in text


@pytest.mark.django_db
def test_russian_assessment_notice_names_the_taxes_in_russian(assessed, world):
    _document, text = _rendered(world["users"]["trader_a"], assessed, NOTICE, language="ru")

    assert "Уведомление о начислении платежей" in text
    assert "НДС" in text
    assert "11\xa0558,75 TMT" in text or "11 558,75 TMT" in text


@pytest.mark.django_db
def test_a_draft_sad_is_marked_draft(world):
    draft = declaration_create(actor=world["users"]["trader_a"], data=declaration_data())

    _document, text = _rendered(world["users"]["trader_a"], draft, SAD)

    assert "DRAFT: NOT REGISTERED" in text.upper()
    assert "LRN-0001" in text
    assert "Not yet assessed." in text


@pytest.mark.django_db
def test_the_assessment_notice_of_a_draft_is_refused_and_nothing_is_stored(world, sent_tasks):
    draft = declaration_create(actor=world["users"]["trader_a"], data=declaration_data())

    with pytest.raises(PrintNotAvailable, match="has not been assessed"):
        declaration_print_request(
            actor=world["users"]["trader_a"], declaration=draft, kind=NOTICE, language="en"
        )

    assert DeclarationPrint.objects.count() == 0
    assert sent_tasks == []


@pytest.mark.django_db
def test_someone_who_may_not_see_the_declaration_cannot_ask_for_its_documents(assessed, world):
    with pytest.raises(NotAuthorised):
        declaration_print_request(
            actor=world["users"]["trader_b"], declaration=assessed, kind=SAD, language="en"
        )

    assert DeclarationPrint.objects.count() == 0


@pytest.mark.django_db
def test_rendering_a_ready_document_again_does_nothing(assessed, world, monkeypatch):
    document, _text_ = _rendered(world["users"]["trader_a"], assessed, SAD)
    name = document.file.name
    monkeypatch.setattr(printing, "render_pdf", lambda *args, **kwargs: pytest.fail("rendered twice"))

    assert declaration_print_render(document.pk) == "ready"

    document.refresh_from_db()
    assert document.file.name == name


@pytest.mark.django_db
def test_a_failed_render_is_recorded_and_retried_only_when_asked(assessed, world, monkeypatch, sent_tasks):
    trader = world["users"]["trader_a"]

    def broken(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(printing, "render_pdf", broken)
    document = declaration_print_request(actor=trader, declaration=assessed, kind=SAD, language="en")

    assert declaration_print_render(document.pk) == "failed"
    document.refresh_from_db()
    assert (document.status, document.error, document.file.name) == ("failed", "OSError: disk full", "")
    again = declaration_print_request(actor=trader, declaration=assessed, kind=SAD, language="en")
    assert again.status == "failed"
    retried = declaration_print_request(
        actor=trader, declaration=assessed, kind=SAD, language="en", retry_failed=True
    )
    assert (retried.pk, retried.status, retried.error) == (document.pk, "pending", "")


@pytest.mark.django_db
def test_a_changed_declaration_gets_a_new_document(assessed, world):
    trader = world["users"]["trader_a"]
    old = declaration_print_request(actor=trader, declaration=assessed, kind=SAD, language="en")
    Declaration.objects.filter(pk=assessed.pk).update(version=assessed.version + 1)
    assessed.refresh_from_db()

    new = declaration_print_request(actor=trader, declaration=assessed, kind=SAD, language="en")

    assert new.pk != old.pk
    assert declaration_print_render(old.pk) == "failed"  # its version is gone; nobody waits for it
    assert declaration_print_render(new.pk) == "ready"


@pytest.mark.django_db
def test_sweeper_sends_the_task_again_for_documents_pending_too_long(
    assessed, world, sent_tasks, django_capture_on_commit_callbacks
):
    document = declaration_print_request(
        actor=world["users"]["trader_a"], declaration=assessed, kind=SAD, language="en"
    )
    DeclarationPrint.objects.filter(pk=document.pk).update(
        requested_at=document.requested_at.replace(year=2020)
    )

    with django_capture_on_commit_callbacks(execute=True):
        count = declaration_print_sweep()

    assert count == 1
    assert sent_tasks == [("declarations.render_print", (document.pk,))]


# Views


@pytest.mark.django_db
def test_view_shows_the_wait_page_then_the_pdf(assessed, world, client, sent_tasks):
    client.force_login(world["users"]["trader_a"])
    url = reverse("declaration-prints:assessment-notice", args=[assessed.pk]) + "?lang=en"

    waiting = client.get(url)

    document = DeclarationPrint.objects.get()
    assert waiting.status_code == 200
    assert waiting["Content-Type"].startswith("text/html")
    assert waiting["Refresh"] == f"2; url={url}"
    assert b"Your document is being prepared." in waiting.content
    assert f'<meta http-equiv="refresh" content="2; url={url}">'.encode() in waiting.content
    assert b"<progress" in waiting.content
    assert (document.kind, document.language, document.status) == (NOTICE, "en", "pending")

    assert declaration_print_render(document.pk) == "ready"
    ready = client.get(url)

    pdf = b"".join(ready.streaming_content)
    assert ready.status_code == 200
    assert ready["Content-Type"] == "application/pdf"
    assert ready["Content-Disposition"] == (
        f'inline; filename="assessment-notice-tma01-{world["today"].year}-a-1-en.pdf"'
    )
    assert assessed.assessment_reference in _text(pdf)
    assert DeclarationPrint.objects.count() == 1


@pytest.mark.django_db
def test_view_of_a_failed_document_offers_to_try_again(assessed, world, client, monkeypatch, sent_tasks):
    monkeypatch.setattr(printing, "render_pdf", lambda *args, **kwargs: 1 / 0)
    client.force_login(world["users"]["trader_a"])
    url = reverse("declaration-prints:sad", args=[assessed.pk])
    client.get(url + "?lang=en")
    document = DeclarationPrint.objects.get()
    declaration_print_render(document.pk)

    failed = client.get(url + "?lang=en")
    retried = client.get(url + "?lang=en&retry=1")

    assert failed.status_code == 200
    assert "Refresh" not in failed
    assert b"The document could not be prepared." in failed.content
    assert b"ZeroDivisionError" not in failed.content
    assert f'href="{url}?lang=en&amp;retry=1"'.encode() in failed.content
    assert b"Your document is being prepared." in retried.content
    assert retried["Refresh"] == f"2; url={url}?lang=en"  # reloads without retry: no retry loop
    document.refresh_from_db()
    assert document.status == "pending"


@pytest.mark.django_db
def test_view_prints_in_the_request_language_without_lang(assessed, world, client, sent_tasks):
    client.force_login(world["users"]["trader_a"])

    response = client.get(reverse("declaration-prints:sad", args=[assessed.pk]), HTTP_ACCEPT_LANGUAGE="ru")

    assert response.status_code == 200
    assert DeclarationPrint.objects.get().language == "ru"


@pytest.mark.django_db
def test_status_endpoint_reports_the_document(assessed, world, client, sent_tasks):
    client.force_login(world["users"]["trader_a"])
    client.get(reverse("declaration-prints:sad", args=[assessed.pk]) + "?lang=tk")
    document = DeclarationPrint.objects.get()
    status_url = reverse("declaration-prints:status", args=[assessed.pk, document.pk])

    pending = client.get(status_url).json()
    declaration_print_render(document.pk)
    ready = client.get(status_url).json()

    assert (pending["status"], pending["rendered_at"]) == ("pending", None)
    assert ready["status"] == "ready"
    assert ready["url"] == reverse("declaration-prints:sad", args=[assessed.pk]) + "?lang=tk"


@pytest.mark.django_db
def test_trader_b_gets_404_for_trader_a_documents(assessed, world, client, sent_tasks):
    document, _text_ = _rendered(world["users"]["trader_a"], assessed, SAD)
    client.force_login(world["users"]["trader_b"])

    responses = [
        client.get(reverse("declaration-prints:assessment-notice", args=[assessed.pk])),
        client.get(reverse("declaration-prints:sad", args=[assessed.pk]) + "?lang=en"),
        client.get(reverse("declaration-prints:status", args=[assessed.pk, document.pk])),
    ]

    assert [response.status_code for response in responses] == [404, 404, 404]
    assert DeclarationPrint.objects.count() == 1


@pytest.mark.django_db
def test_anonymous_is_sent_to_sign_in(assessed, client):
    response = client.get(reverse("declaration-prints:sad", args=[assessed.pk]))

    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))
    assert DeclarationPrint.objects.count() == 0


@pytest.mark.django_db
def test_view_refuses_the_assessment_notice_of_a_draft(world, client, sent_tasks):
    draft = declaration_create(actor=world["users"]["trader_a"], data=declaration_data())
    client.force_login(world["users"]["trader_a"])

    response = client.get(reverse("declaration-prints:assessment-notice", args=[draft.pk]))

    assert response.status_code == 409
    assert b"has not been assessed" in response.content
    assert DeclarationPrint.objects.count() == 0


@pytest.mark.django_db
def test_officer_of_the_office_gets_the_notice(assessed, world, client, verified_login, sent_tasks):
    verified_login(client, world["users"]["officer"])

    response = client.get(reverse("declaration-prints:assessment-notice", args=[assessed.pk]))

    assert response.status_code == 200
    assert DeclarationPrint.objects.get().requested_by == world["users"]["officer"]


# A real worker


@pytest.fixture
def print_worker(worker_media_root, celery_worker):
    return celery_worker


@pytest.mark.integration
@pytest.mark.django_db(transaction=True)
def test_worker_renders_the_document_sent_on_commit(world, print_worker):
    trader = world["users"]["trader_a"]
    declaration = declaration_lodge(
        actor=trader, declaration=declaration_create(actor=trader, data=declaration_data())
    )

    with transaction.atomic():
        document = declaration_print_request(
            actor=trader, declaration=declaration, kind=NOTICE, language="tk"
        )

    ready = wait_for(lambda: DeclarationPrint.objects.get(pk=document.pk).status != "pending")

    assert ready, print_worker.stdout.read() if print_worker.poll() is not None else "worker did not render"
    document.refresh_from_db()
    assert document.status == "ready", document.error
    with document.file.open("rb") as file:
        assert declaration.assessment_reference in _text(file.read())

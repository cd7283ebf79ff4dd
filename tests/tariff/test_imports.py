"""Tariff files uploaded in admin and imported in the background, with progress and a report."""

import datetime

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice

from customs.services.users import user_upsert
from tariff.choices import ImportKind, ImportStatus
from tariff.imports import tariff_import_progress, tariff_import_run, tariff_import_start
from tariff.models import Measure, TariffImport
from tests.tariff.conftest import FISH

HEADER = (
    "measure_type,commodity_prefix,expression,origin,procedure_code,required_document,valid_from,valid_to,"
    "legal_base\n"
)
GOOD = (
    HEADER + f"import_duty,{FISH},9%,,,,2026-06-01,,Decree 7\nexcise,0303,1 USD/kg,,,,2026-06-01,,Decree 7\n"
)
BAD = HEADER + f"import_duty,{FISH},9% + EA,,,,2026-06-01,,\nimport_duty,0303,12%,XX,,,2026-06-01,,\n"


def _upload(actor, content, dry_run=False):
    return tariff_import_start(
        actor=actor,
        kind=ImportKind.MEASURES,
        uploaded_file=SimpleUploadedFile("measures.csv", content.encode()),
        valid_from=datetime.date(2026, 6, 1),
        dry_run=dry_run,
    )


@pytest.mark.django_db
def test_upload_is_queued_after_commit_then_imported(small_tariff, django_capture_on_commit_callbacks):
    measures_before = Measure.objects.count()
    with django_capture_on_commit_callbacks() as callbacks:
        tariff_import = _upload(None, GOOD)

    status = tariff_import_run(import_id=tariff_import.pk)
    tariff_import.refresh_from_db()

    assert len(callbacks) == 1
    assert status == ImportStatus.DONE
    assert tariff_import.report["counts"]["created"] == 2
    assert tariff_import.report["rejected"] == []
    assert Measure.objects.count() == measures_before + 2
    assert tariff_import_progress(tariff_import) == {
        "status": "done",
        "status_label": "Done",
        "done": 2,
        "total": 2,
        "percent": 100,
        "finished": True,
        "summary": tariff_import.summary,
    }
    assert tariff_import_run(import_id=tariff_import.pk) == ImportStatus.DONE  # not run twice
    assert Measure.objects.count() == measures_before + 2


@pytest.mark.django_db
def test_a_rejected_file_reports_every_row_and_writes_nothing(small_tariff):
    measures_before = Measure.objects.count()
    tariff_import = _upload(None, BAD)

    status = tariff_import_run(import_id=tariff_import.pk)
    tariff_import.refresh_from_db()

    assert status == ImportStatus.REJECTED
    assert Measure.objects.count() == measures_before
    assert tariff_import.report["rejected_total"] == 2
    assert [row["line"] for row in tariff_import.report["rejected"]] == [2, 3]
    assert "EA" in tariff_import.report["rejected"][0]["reason"]
    assert "XX" in tariff_import.report["rejected"][1]["reason"]


@pytest.mark.django_db
def test_a_dry_run_counts_but_writes_nothing(small_tariff):
    measures_before = Measure.objects.count()
    tariff_import = _upload(None, GOOD, dry_run=True)

    tariff_import_run(import_id=tariff_import.pk)
    tariff_import.refresh_from_db()

    assert tariff_import.status == ImportStatus.DONE
    assert tariff_import.report["counts"]["created"] == 2
    assert tariff_import.report["written"] is False
    assert Measure.objects.count() == measures_before


@pytest.mark.django_db
def test_only_administrators_open_the_upload_page(client, verified_login, small_tariff):
    administrator = user_upsert(actor=None, username="ayna", roles=["administrator"])
    officer = user_upsert(actor=None, username="merdan", roles=["officer"])

    refused = verified_login(client, officer).get("/admin/tariff/tariffimport/upload/")
    page = verified_login(client, administrator).get("/admin/tariff/tariffimport/upload/")
    posted = client.post(
        "/admin/tariff/tariffimport/upload/",
        {"kind": "measures", "valid_from": "2026-06-01", "file": SimpleUploadedFile("m.csv", GOOD.encode())},
    )
    tariff_import = TariffImport.objects.get()
    status = client.get(f"/admin/tariff/tariffimport/{tariff_import.pk}/status/")

    assert refused.status_code == 302  # officers are not admin staff
    assert page.status_code == 200
    assert posted.status_code == 302
    assert posted["Location"] == f"/admin/tariff/tariffimport/{tariff_import.pk}/change/"
    assert tariff_import.created_by == administrator
    assert status.json()["status"] == "queued"


@pytest.mark.browser
@pytest.mark.integration
@pytest.mark.django_db(transaction=True)
def test_administrator_watches_a_real_worker_import_an_uploaded_file(
    page, live_server, small_tariff, celery_worker, tmp_path
):
    administrator = user_upsert(
        actor=None, username="ayna", password="Border-post-2026", roles=["administrator"]
    )
    device = TOTPDevice.objects.create(user=administrator, name="phone", confirmed=True)
    upload = tmp_path / "measures.csv"
    upload.write_text(GOOD)

    page.goto(f"{live_server.url}/admin/tariff/tariffimport/upload/")
    page.get_by_label("User name").fill("ayna")
    page.get_by_label("Password").fill("Border-post-2026")
    page.locator("#login-submit").click()
    page.get_by_label("Code from your authenticator app").fill(f"{totp(device.bin_key):06d}")
    page.locator("#token-submit").click()
    page.wait_for_url("**/upload/")
    page.get_by_label("What the file holds").select_option("measures")
    page.get_by_label("CSV file").set_input_files(str(upload))
    page.get_by_label("Dry run: check and count, write nothing").uncheck()
    page.locator("#tariff-upload-submit").click()
    page.wait_for_url("**/change/")
    page.wait_for_function(
        "() => document.getElementById('import-status').textContent.trim() === 'Done'", timeout=60_000
    )

    assert page.locator("#import-progress").get_attribute("value") == "100"
    assert "2 created" in page.locator("#import-summary").inner_text()
    assert Measure.objects.filter(commodity_prefix=FISH, expression="9%").count() == 1

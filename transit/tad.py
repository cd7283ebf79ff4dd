"""The transit accompanying document (TAD): the PDF that travels with the goods of a released T1.

Laid out as the NCTS transit accompanying document: the MRN in large characters and as a Code 128
barcode (what an office of transit scans to record the passage), the movement's particulars (offices,
principal, carrier, means of transport, containers, seals, itinerary, time limit, guarantee, previous
document), the items with their totals, and a QR code holding the signed token that any post can verify
offline against the service's public key. A reprint says "DUPLICATE" on every page.

:func:`tad_context` builds what ``transit/pdf/tad.html`` gets; :func:`tad_render` renders it to PDF in a
language. Rendering is task work (STYLE.md): the release service prints the TAD from a Celery task.
"""

from django.conf import settings
from django.utils import timezone, translation
from django.utils.translation import gettext

from customs.codes import code128_svg_base64, qr_svg_base64
from customs.models import CustomsOffice
from customs.pdf import render_pdf
from transit.choices import MovementStatus
from transit.data import PartyData, TransitData

TAD_TEMPLATE = "transit/pdf/tad.html"


def _office_names(codes: list[str]) -> dict[str, str]:
    """The names of the offices among ``codes`` known to the database, in the active language (English
    when the office has no name in it); an unknown code is simply not in the result."""
    wanted = {code for code in codes if code}
    if not wanted:
        return {}
    return {office.code: office.name for office in CustomsOffice.objects.filter(code__in=wanted)}


def _party(party: PartyData | None) -> dict | None:
    """A party as the document prints it: name, identification and the address in one line."""
    if party is None:
        return None
    locality = " ".join(part for part in (party.postcode, party.city) if part)
    address = ", ".join(part for part in (party.street, locality, party.country) if part)
    return {"name": party.name, "identification": party.identification, "address": address}


def tad_context(data: TransitData, *, token: str, status_label: str, duplicate: bool, language: str) -> dict:
    """What ``transit/pdf/tad.html`` gets to print the TAD of ``data`` in ``language``.

    ``token`` is the signed token the QR code holds; ``status_label`` the movement's status as the
    document names it ("Released for transit"); ``duplicate`` marks a reprint. Office names come from
    ``customs.models.CustomsOffice`` in ``language`` (one query); an office unknown to the database is
    printed by its code alone. Raises ``ValueError`` for a language not in ``settings.LANGUAGES`` and
    when ``data`` has no MRN (a TAD is printed on release, once the MRN is given).
    """
    if language not in dict(settings.LANGUAGES):
        raise ValueError(f"Unknown document language {language!r}")
    if not data.mrn:
        raise ValueError("A transit accompanying document needs the MRN given on release")
    with translation.override(language):
        names = _office_names([data.departure_office, data.destination_office, *data.transit_offices])

        def office(code: str) -> dict:
            return {"code": code, "name": names.get(code, "")}

        issued_at = data.issued_at or timezone.now()
        if timezone.is_aware(issued_at):
            issued_at = timezone.localtime(issued_at)
        return {
            "data": data,
            "mrn": data.mrn,
            "mrn_barcode_base64": code128_svg_base64(data.mrn),
            "token": token,
            # Box size 10 makes the SVG's coordinates whole numbers (a module is 1 unit): a third shorter
            # to parse and draw than the default; the printed size is set by the template.
            "token_qr_base64": qr_svg_base64(token, box_size=10),
            "status_label": status_label,
            "duplicate": duplicate,
            # The stamp says "DUPLICATE" for any reader, and also in the document's language.
            "duplicate_word": gettext("Duplicate").upper(),
            "departure_office": office(data.departure_office),
            "transit_offices": [office(code) for code in data.transit_offices],
            "destination_office": office(data.destination_office),
            "principal": _party(data.principal),
            "carrier": _party(data.carrier),
            "items": data.items,
            "total_packages": data.total_packages,
            "total_gross_mass": data.total_gross_mass,
            "time_limit": data.time_limit,
            "issued_at": issued_at,
        }


def tad_render(data: TransitData, *, token: str, duplicate: bool = False, language: str = "en") -> bytes:
    """The TAD of the released movement ``data`` as PDF bytes, in ``language`` (one of
    ``settings.LANGUAGES``), its QR code holding ``token``; ``duplicate`` for a reprint.

    The status printed is the one in which a TAD is issued, "Released for transit"
    (``MovementStatus.RELEASED``), for the original as for a duplicate; a caller that prints another
    status renders ``TAD_TEMPLATE`` with :func:`tad_context` itself.
    """
    with translation.override(language):
        context = tad_context(
            data,
            token=token,
            status_label=str(MovementStatus.RELEASED.label),
            duplicate=duplicate,
            language=language,
        )
        return render_pdf(TAD_TEMPLATE, context, language=language)

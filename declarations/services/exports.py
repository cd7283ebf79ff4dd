"""Exports of declarations for other systems: WCO DM 3.6 XML, for customs-to-customs exchange and
traders' software. The file is checked against the DEC-DMS schemas before it leaves: an export that
would not validate is an error of Kerwen's, logged and refused, never sent."""

import logging

from django.utils.translation import gettext as _

from customs.xmlsafe import xml_parse, xml_validate
from declarations.exchange.wcodm import wcodm_schema, wcodm_write
from declarations.models import Declaration

logger = logging.getLogger(__name__)


class ExportFailed(Exception):
    pass


def declaration_wcodm_export(declaration: Declaration) -> tuple[bytes, str]:
    """The declaration as WCO DM XML, and a file name for it (``<number or LRN>.wcodm.xml``)."""
    declaration = (
        Declaration.objects.select_related("trader__country", "broker", "office")
        .prefetch_related("items", "documents")
        .get(pk=declaration.pk)
    )
    content = wcodm_write(declaration)
    problems = xml_validate(xml_parse(content), wcodm_schema())
    if problems:
        logger.error("WCO DM export of declaration %s does not validate: %s", declaration.pk, problems[:5])
        raise ExportFailed(
            _("The declaration could not be exported as valid WCO DM XML; the error is logged.")
        )
    name = (declaration.number or declaration.lrn).replace(" ", "-").replace("/", "-")
    return content, f"{name}.wcodm.xml"

"""Russian and Turkmen catalogues are complete and compiled; Turkmen dates read naturally."""

import datetime
from pathlib import Path

import polib
import pytest
from django.conf import settings
from django.utils import formats, translation

LOCALE = Path(settings.BASE_DIR) / "locale"


@pytest.mark.parametrize("language", ["ru", "tk"])
def test_every_message_is_translated_and_not_fuzzy(language):
    catalogue = polib.pofile(str(LOCALE / language / "LC_MESSAGES" / "django.po"))

    assert [entry.msgid for entry in catalogue.untranslated_entries()] == []
    assert [entry.msgid for entry in catalogue.fuzzy_entries()] == []
    assert len(catalogue) > 100


@pytest.mark.parametrize("language", ["ru", "tk"])
def test_compiled_catalogue_matches_the_source(language):
    source = polib.pofile(str(LOCALE / language / "LC_MESSAGES" / "django.po"))
    compiled = polib.mofile(str(LOCALE / language / "LC_MESSAGES" / "django.mo"))

    def pairs(catalogue):
        return {
            (entry.msgctxt, entry.msgid): entry.msgstr or entry.msgstr_plural.get(0) for entry in catalogue
        }

    assert pairs(compiled) == {key: value for key, value in pairs(source).items() if not key[1] == ""}


def test_turkmen_dates_have_no_russian_suffix():
    with translation.override("tk"):
        assert formats.date_format(datetime.date(2026, 11, 23)) == "23 Noýabr 2026"

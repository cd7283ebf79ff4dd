"""factory_boy factories of the tariff, and of the kernel code lists the tariff refers to (not in
``tests/customs/factories.py``: units, country groups, procedure codes, document types)."""

import datetime

import factory

from customs import models as customs_models
from customs.choices import ProcedureDirection
from tariff import models
from tariff.choices import MeasureType

TARIFF_START = datetime.date(2022, 1, 1)


class UnitOfMeasureFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = customs_models.UnitOfMeasure
        django_get_or_create = ("code",)

    code = "KGM"
    symbol = "kg"
    name_en = "kilogram"


class CountryGroupFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = customs_models.CountryGroup
        django_get_or_create = ("code",)
        skip_postgeneration_save = True

    code = "CIS_FTA"
    name_en = "CIS free trade area"

    @factory.post_generation
    def countries(self, create, extracted, **kwargs):
        """``CountryGroupFactory(countries=[kz, ru])`` sets the members."""
        if create and extracted:
            self.countries.set(extracted)


class ProcedureCodeFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = customs_models.ProcedureCode
        django_get_or_create = ("code",)

    code = "4000"
    name_en = "Release for home use"
    direction = ProcedureDirection.IMPORT


class DocumentTypeFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = customs_models.DocumentType
        django_get_or_create = ("code",)

    code = "ST1"
    name_en = "Certificate of origin form ST-1"


class TariffSectionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = models.TariffSection
        django_get_or_create = ("code",)

    code = "I"
    position = 1
    name_en = "Live animals; animal products"


class CommodityCodeFactory(factory.django.DjangoModelFactory):
    """A line; ``level`` and ``parent_code`` follow from the code (chapters have no parent)."""

    class Meta:
        model = models.CommodityCode

    code = "0303"
    level = factory.LazyAttribute(lambda line: len(line.code))
    parent_code = factory.LazyAttribute(
        lambda line: "" if len(line.code) == 2 else line.code[:6] if len(line.code) >= 8 else line.code[:-2]
    )
    section = factory.SubFactory(TariffSectionFactory)
    description_en = factory.LazyAttribute(lambda line: f"Line {line.code}")
    declarable = False
    valid_from = TARIFF_START


class MeasureFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = models.Measure

    measure_type = MeasureType.IMPORT_DUTY
    commodity_prefix = "0303"
    expression = "10%"
    valid_from = TARIFF_START

"""Serializers of the reference data. Rates travel as decimal strings."""

from rest_framework import serializers

from customs.models import (
    Country,
    CountryGroup,
    Currency,
    CustomsOffice,
    DocumentType,
    ExchangeRate,
    Incoterm,
    PackageKind,
    ProcedureCode,
    TransportMode,
    UnitOfMeasure,
)

CODE_LIST_FIELDS = ["code", "name", "name_en", "name_ru", "name_tk", "valid_from", "valid_to", "active"]


class CodeListSerializer(serializers.ModelSerializer):
    name = serializers.CharField(read_only=True)


def code_list_serializer(model, extra_fields=()):
    """A serializer for one code list: the common fields plus the model's own."""
    meta = type("Meta", (), {"model": model, "fields": CODE_LIST_FIELDS + list(extra_fields)})
    return type(f"{model.__name__}Serializer", (CodeListSerializer,), {"Meta": meta})


CountrySerializer = code_list_serializer(Country, ["alpha3", "numeric"])
CurrencySerializer = code_list_serializer(Currency, ["numeric", "minor_unit"])
UnitOfMeasureSerializer = code_list_serializer(UnitOfMeasure, ["symbol"])
PackageKindSerializer = code_list_serializer(PackageKind)
DocumentTypeSerializer = code_list_serializer(DocumentType)
TransportModeSerializer = code_list_serializer(TransportMode)
IncotermSerializer = code_list_serializer(
    Incoterm, ["includes_main_carriage", "includes_insurance", "includes_costs_beyond_border"]
)


class CountryGroupSerializer(CodeListSerializer):
    countries = serializers.SlugRelatedField(slug_field="code", many=True, queryset=Country.objects.all())

    class Meta:
        model = CountryGroup
        fields = CODE_LIST_FIELDS + ["countries"]


class ProcedureCodeSerializer(CodeListSerializer):
    allowed_additional_codes = serializers.SlugRelatedField(slug_field="code", many=True, read_only=True)

    class Meta:
        model = ProcedureCode
        fields = CODE_LIST_FIELDS + ["direction", "allowed_additional_codes"]


class CustomsOfficeSerializer(serializers.ModelSerializer):
    name = serializers.CharField(read_only=True)
    country = serializers.SlugRelatedField(slug_field="code", queryset=Country.objects.all())

    class Meta:
        model = CustomsOffice
        fields = ["code", "name", "name_en", "name_ru", "name_tk", "kind", "roles", "country", "active"]


class ExchangeRateSerializer(serializers.ModelSerializer):
    currency = serializers.SlugRelatedField(slug_field="code", queryset=Currency.objects.all())

    class Meta:
        model = ExchangeRate
        fields = ["currency", "valid_from", "rate", "source"]


class RateOnDateQuerySerializer(serializers.Serializer):
    currency = serializers.CharField(max_length=3)
    date = serializers.DateField()


class RateOnDateSerializer(serializers.Serializer):
    currency = serializers.CharField()
    date = serializers.DateField()
    rate = serializers.DecimalField(max_digits=24, decimal_places=10)
    valid_from = serializers.DateField()
    national_currency = serializers.CharField()

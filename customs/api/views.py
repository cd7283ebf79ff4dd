"""Reference data API: read for any signed-in user or API key with ``reference:read``; write for
administrators (model permissions)."""

from django.conf import settings
from django_filters import rest_framework as filters
from drf_spectacular.utils import extend_schema
from rest_framework import permissions, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from customs.api import serializers
from customs.api.authentication import HasApiScope
from customs.api.errors import ApiConflict
from customs.choices import ApiScope
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
from customs.services.exchange_rates import ExchangeRateMissing, exchange_rate_on


class ReferenceDataPermission(permissions.DjangoModelPermissions):
    """Anyone authenticated reads; writing needs the model's add/change/delete permission."""

    def has_permission(self, request, view):
        if not (request.user and request.user.is_authenticated):
            return False
        if request.method in permissions.SAFE_METHODS:
            return True
        return super().has_permission(request, view)


class CodeListFilter(filters.FilterSet):
    code = filters.CharFilter(lookup_expr="istartswith")
    name = filters.CharFilter(field_name="name_en", lookup_expr="icontains")
    active = filters.BooleanFilter()


class ReferenceViewSet(viewsets.ModelViewSet):
    permission_classes = [ReferenceDataPermission, HasApiScope]
    required_scope = ApiScope.REFERENCE_READ
    lookup_field = "code"
    lookup_value_regex = "[^/]+"


def reference_viewset(model, serializer_class, filter_fields=(), extra_filters=None):
    """A code-list viewset with code / name / active filters."""
    filter_meta = type("Meta", (), {"model": model, "fields": list(filter_fields)})
    filterset = type(
        f"{model.__name__}Filter", (CodeListFilter,), {"Meta": filter_meta, **(extra_filters or {})}
    )
    return type(
        f"{model.__name__}ViewSet",
        (ReferenceViewSet,),
        {"queryset": model.objects.all(), "serializer_class": serializer_class, "filterset_class": filterset},
    )


CountryViewSet = reference_viewset(Country, serializers.CountrySerializer)
CountryGroupViewSet = reference_viewset(CountryGroup, serializers.CountryGroupSerializer)
CurrencyViewSet = reference_viewset(Currency, serializers.CurrencySerializer)
UnitOfMeasureViewSet = reference_viewset(UnitOfMeasure, serializers.UnitOfMeasureSerializer)
PackageKindViewSet = reference_viewset(PackageKind, serializers.PackageKindSerializer)
DocumentTypeViewSet = reference_viewset(DocumentType, serializers.DocumentTypeSerializer)
ProcedureCodeViewSet = reference_viewset(
    ProcedureCode, serializers.ProcedureCodeSerializer, filter_fields=["direction"]
)
TransportModeViewSet = reference_viewset(TransportMode, serializers.TransportModeSerializer)
IncotermViewSet = reference_viewset(Incoterm, serializers.IncotermSerializer)


class CustomsOfficeFilter(CodeListFilter):
    kind = filters.CharFilter()
    role = filters.CharFilter(field_name="roles", lookup_expr="contains", method="filter_role")

    class Meta:
        model = CustomsOffice
        fields = ["kind", "active"]

    def filter_role(self, queryset, name, value):
        return queryset.filter(roles__contains=[value])


class CustomsOfficeViewSet(ReferenceViewSet):
    queryset = CustomsOffice.objects.select_related("country")
    serializer_class = serializers.CustomsOfficeSerializer
    filterset_class = CustomsOfficeFilter


class ExchangeRateFilter(filters.FilterSet):
    currency = filters.CharFilter(field_name="currency__code", lookup_expr="iexact")
    valid_from = filters.DateFromToRangeFilter()

    class Meta:
        model = ExchangeRate
        fields = ["currency", "valid_from"]


class ExchangeRateViewSet(viewsets.ModelViewSet):
    """Exchange rates in national currency; ``on-date`` gives the rate in force on a date."""

    queryset = ExchangeRate.objects.select_related("currency")
    serializer_class = serializers.ExchangeRateSerializer
    filterset_class = ExchangeRateFilter
    permission_classes = [ReferenceDataPermission, HasApiScope]
    required_scope = ApiScope.REFERENCE_READ

    @extend_schema(
        parameters=[serializers.RateOnDateQuerySerializer], responses=serializers.RateOnDateSerializer
    )
    @action(detail=False, methods=["get"], url_path="on-date")
    def on_date(self, request):
        query = serializers.RateOnDateQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        try:
            found = exchange_rate_on(query.validated_data["currency"], query.validated_data["date"])
        except ExchangeRateMissing as error:
            raise ApiConflict(str(error), code="exchange_rate_missing") from error
        body = serializers.RateOnDateSerializer(
            {
                "currency": found.currency,
                "date": query.validated_data["date"],
                "rate": found.rate,
                "valid_from": found.valid_from,
                "national_currency": settings.NATIONAL_CURRENCY,
            }
        ).data
        return Response(body)

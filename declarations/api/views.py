"""The declarations API: CRUD of drafts, and one POST action per command. Thin: each action validates
its input with a serializer and calls one service.

- Every queryset comes from ``declaration_list_for_user`` (a trader sees its own, a broker those of
  traders that authorise it, an officer those of its offices).
- ``Idempotency-Key`` on the POSTs that create or lodge: a retry gets the first response again.
- ``ETag`` on reads; ``If-Match`` on updates and commands (412 when stale).
- Errors in the one envelope of ``customs.api.errors``: 400 with every field's problems, 403, 404,
  409 for a move the state does not allow, 412 for a stale version.
"""

from django.http import Http404, HttpResponse
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiExample,
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
    extend_schema_view,
)
from rest_framework import exceptions, mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.parsers import FormParser, JSONParser, MultiPartParser
from rest_framework.response import Response

from customs.api.authentication import HasApiScope, ReadWriteScopes
from customs.api.errors import ApiConflict
from customs.choices import ApiScope
from declarations.api import serializers
from declarations.api.idempotency import IDEMPOTENCY_KEY, idempotent
from declarations.choices import TRANSITIONS
from declarations.models import Declaration, DeclarationDocument
from declarations.selectors import (
    declaration_actions_for,
    declaration_list_for_user,
    declaration_rows_prefetch,
)
from declarations.services import drafts, lifecycle
from declarations.services.errors import DeclarationInvalid, NotAuthorised, StaleVersion, TransitionNotAllowed
from declarations.services.exports import ExportFailed, declaration_wcodm_export
from declarations.services.permissions import is_officer_of


class PreconditionFailed(exceptions.APIException):
    status_code = status.HTTP_412_PRECONDITION_FAILED
    default_code = "stale_version"


def _invalid(error: DeclarationInvalid) -> exceptions.ValidationError:
    detail = {}
    for field_name, errors in error.by_field().items():
        detail[field_name] = [
            exceptions.ErrorDetail(problem.message, code=problem.code) for problem in errors
        ]
    return exceptions.ValidationError(detail)


def _expected_version(request) -> int | None:
    """The version named by ``If-Match: "<id>-<version>"``, or None without the header."""
    header = request.headers.get("If-Match", "").strip()
    if not header or header == "*":
        return None
    try:
        return int(header.strip('W/"').rsplit("-", 1)[1])
    except (IndexError, ValueError):
        raise PreconditionFailed(_("If-Match must be the ETag of the declaration.")) from None


IF_MATCH = OpenApiParameter(
    "If-Match", OpenApiTypes.STR, OpenApiParameter.HEADER, description="The ETag read; 412 if it is stale"
)
DECLARATION_EXAMPLE = OpenApiExample(
    "An import of one car",
    value={
        "declaration_type": "IM4",
        "office": "TMA01",
        "trader": "101012345678",
        "lrn": "INV-2026-0042",
        "counterparty_name": "Shanghai Motors Ltd",
        "counterparty_country": "CN",
        "dispatch_country": "CN",
        "incoterm": "CIF",
        "transport_mode": "3",
        "transport_identity": "AG 1234",
        "invoice_amount": "10000.00",
        "invoice_currency": "USD",
        "total_packages": 1,
        "items": [
            {
                "commodity_code": "8703231900",
                "description": "Passenger car, petrol, 1,500 cc",
                "origin": "CN",
                "procedure_code": "4000",
                "packages_number": 1,
                "package_kind": "PK",
                "gross_mass": "1200",
                "net_mass": "1100",
                "invoice_price": "10000.00",
                "quantities": {"item": "1"},
            }
        ],
    },
    request_only=True,
)


@extend_schema_view(
    list=extend_schema(summary="Declarations the caller may see, newest first"),
    retrieve=extend_schema(summary="One declaration with items, assessment, documents and history"),
    create=extend_schema(
        summary="Create a draft", parameters=[IDEMPOTENCY_KEY], examples=[DECLARATION_EXAMPLE]
    ),
    update=extend_schema(summary="Replace a draft", parameters=[IF_MATCH]),
    partial_update=extend_schema(summary="Change fields of a draft", parameters=[IF_MATCH]),
    destroy=extend_schema(summary="Withdraw a draft", parameters=[IF_MATCH]),
)
class DeclarationViewSet(
    ReadWriteScopes,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    mixins.DestroyModelMixin,
    viewsets.GenericViewSet,
):
    serializer_class = serializers.DeclarationSerializer
    permission_classes = [*viewsets.GenericViewSet.permission_classes, HasApiScope]
    parser_classes = [JSONParser, MultiPartParser, FormParser]
    filterset_fields = ["status", "declaration_type", "lrn"]

    read_scope, write_scope = ApiScope.DECLARATIONS_READ, ApiScope.DECLARATIONS_WRITE

    def get_queryset(self):
        declarations = declaration_list_for_user(self.request.user).order_by("-created_at", "-pk")
        return declaration_rows_prefetch(declarations) if self.action == "retrieve" else declarations

    def filter_queryset(self, queryset):
        """The query filters (``?status=``) are the list's; one declaration is found by its id alone,
        without building a filter set on every command."""
        return super().filter_queryset(queryset) if self.action == "list" else queryset

    def get_serializer_context(self):
        context = super().get_serializer_context()
        context["detail"] = self.action != "list"
        return context

    def handle_exception(self, exc):
        if isinstance(exc, DeclarationInvalid):
            exc = _invalid(exc)
        elif isinstance(exc, StaleVersion):
            exc = PreconditionFailed(str(exc))
        elif isinstance(exc, TransitionNotAllowed):
            exc = ApiConflict(str(exc), code=exc.code)
        elif isinstance(exc, NotAuthorised):
            exc = exceptions.PermissionDenied(str(exc))
        return super().handle_exception(exc)

    def _respond(self, declaration, status_code=status.HTTP_200_OK):
        """The declaration as the services returned it (office, trader and broker loaded), in full."""
        context = {
            **self.get_serializer_context(),
            "allowed_actions": [t.name for t in declaration_actions_for(self.request.user, declaration)],
        }
        data = serializers.DeclarationSerializer(declaration, context=context).data
        return Response(data, status=status_code, headers={"ETag": declaration.etag})

    def retrieve(self, request, *args, **kwargs):
        return self._respond(self.get_object())

    def create(self, request, *args, **kwargs):
        def run():
            serializer = self.get_serializer(data=request.data)
            serializer.is_valid(raise_exception=True)
            declaration = drafts.declaration_create(actor=request.user, data=serializer.validated_data)
            return self._respond(declaration, status.HTTP_201_CREATED)

        return idempotent(request, "create", run)

    @extend_schema(
        request=serializers.DeclarationSerializer,
        responses={201: serializers.DeclarationSerializer},
        parameters=[IDEMPOTENCY_KEY],
        examples=[DECLARATION_EXAMPLE],
        summary="Create and lodge in one call: lodged, or every problem listed and nothing stored",
    )
    @action(detail=False, methods=["post"])
    def submit(self, request):
        def run():
            serializer = self.get_serializer(data=request.data)
            serializer.is_valid(raise_exception=True)
            declaration = lifecycle.declaration_submit(actor=request.user, data=serializer.validated_data)
            return self._respond(declaration, status.HTTP_201_CREATED)

        return idempotent(request, "submit", run)

    def update(self, request, *args, **kwargs):
        partial = kwargs.pop("partial", False)
        declaration = self.get_object()
        serializer = self.get_serializer(data=request.data, partial=partial)
        serializer.is_valid(raise_exception=True)
        data = {key: value for key, value in serializer.validated_data.items() if key in request.data}
        data.pop("trader", None)  # the trader of a declaration never changes: withdraw and start anew
        updated = drafts.declaration_update(
            actor=request.user,
            declaration=declaration,
            data=data,
            expected_version=_expected_version(request),
        )
        return self._respond(updated)

    def destroy(self, request, *args, **kwargs):
        declaration = self.get_object()
        lifecycle.declaration_withdraw(
            actor=request.user, declaration=declaration, expected_version=_expected_version(request)
        )
        return Response(status=status.HTTP_204_NO_CONTENT)

    def _visible(self) -> Declaration:
        """The declaration of the URL if the caller may see it (404 otherwise, as ``get_object``), as
        a bare instance with its id, for a service that reads it again, locked: the hot path of
        lodging a draft (checking the id alone costs half of reading the whole row)."""
        try:
            pk = int(self.kwargs[self.lookup_url_kwarg or self.lookup_field])
        except (TypeError, ValueError):
            raise Http404 from None
        if not self.get_queryset().filter(pk=pk).exists():
            raise Http404
        declaration = Declaration(pk=pk)
        self.check_object_permissions(self.request, declaration)
        return declaration

    def _command(self, request, name, input_serializer=None, *, bare: bool = False, **extra):
        """Run lifecycle command ``name`` on the URL's declaration; ``bare``: the service only needs
        the declaration's id (it reads the row again, locked)."""
        declaration = self._visible() if bare else self.get_object()
        arguments = dict(extra)
        if input_serializer is not None:
            given = input_serializer(data=request.data)
            given.is_valid(raise_exception=True)
            arguments.update(given.validated_data)
        updated = lifecycle.COMMANDS[name](
            actor=request.user,
            declaration=declaration,
            expected_version=_expected_version(request),
            **arguments,
        )
        return self._respond(updated)

    @extend_schema(
        request=None,
        responses=serializers.DeclarationSerializer,
        parameters=[IF_MATCH, IDEMPOTENCY_KEY],
        summary="Lodge a draft (validated; registered and assessed at once where the office does so)",
    )
    @action(detail=True, methods=["post"])
    def lodge(self, request, pk=None):
        return idempotent(request, f"lodge:{pk}", lambda: self._command(request, "lodge", bare=True))

    @extend_schema(
        request=None, responses=serializers.PreviewSerializer, summary="The assessment lodging would give now"
    )
    @action(detail=True, methods=["post"])
    def preview(self, request, pk=None):
        declaration = self.get_object()
        errors, assessment = lifecycle.declaration_preview(actor=request.user, declaration=declaration)
        return Response(
            {
                "errors": [{"field": e.field, "code": e.code, "message": e.message} for e in errors],
                "customs_value": None if assessment is None else str(assessment.customs_value),
                "total": None if assessment is None else str(assessment.total),
                "totals": {} if assessment is None else {k: str(v) for k, v in assessment.totals.items()},
                "warnings": [] if assessment is None else assessment.warnings,
            }
        )

    @extend_schema(
        request=serializers.ReasonSerializer, parameters=[IF_MATCH], summary="Answer an officer's query"
    )
    @action(detail=True, methods=["post"])
    def respond(self, request, pk=None):
        return self._command(request, "respond", serializers.ReasonSerializer)

    @extend_schema(
        request=serializers.AmendmentSerializer, parameters=[IF_MATCH], summary="Request an amendment"
    )
    @action(detail=True, methods=["post"])
    def amend(self, request, pk=None):
        return self._command(request, "request_amendment", serializers.AmendmentSerializer)

    @extend_schema(
        request=serializers.OptionalReasonSerializer,
        parameters=[IF_MATCH],
        summary="Cancel: withdraw a draft or lodged declaration, or ask an officer to cancel it",
    )
    @action(detail=True, methods=["post"])
    def cancel(self, request, pk=None):
        declaration = self.get_object()
        if declaration.status in TRANSITIONS["withdraw"].sources:
            return self._command(request, "withdraw", serializers.OptionalReasonSerializer)
        if is_officer_of(request.user, declaration):
            return self._command(request, "cancel", serializers.ReasonSerializer)
        return self._command(request, "request_cancellation", serializers.ReasonSerializer)

    @extend_schema(request=None, parameters=[IF_MATCH], summary="Officer: register a lodged declaration")
    @action(detail=True, methods=["post"])
    def register(self, request, pk=None):
        return self._command(request, "register")

    @extend_schema(
        request=serializers.ReasonSerializer, parameters=[IF_MATCH], summary="Officer: query the declarant"
    )
    @action(detail=True, methods=["post"])
    def query(self, request, pk=None):
        return self._command(request, "query", serializers.ReasonSerializer)

    @extend_schema(request=serializers.ReasonSerializer, parameters=[IF_MATCH], summary="Officer: reject")
    @action(detail=True, methods=["post"])
    def reject(self, request, pk=None):
        return self._command(request, "reject", serializers.ReasonSerializer)

    @extend_schema(
        request=serializers.OptionalReasonSerializer,
        parameters=[IF_MATCH],
        summary="Officer: accept the amendment",
    )
    @action(detail=True, methods=["post"], url_path="accept-amendment")
    def accept_amendment(self, request, pk=None):
        return self._command(request, "accept_amendment", serializers.OptionalReasonSerializer)

    @extend_schema(
        request=serializers.ReasonSerializer, parameters=[IF_MATCH], summary="Officer: refuse the amendment"
    )
    @action(detail=True, methods=["post"], url_path="refuse-amendment")
    def refuse_amendment(self, request, pk=None):
        return self._command(request, "refuse_amendment", serializers.ReasonSerializer)

    @extend_schema(
        request=serializers.ReasonSerializer,
        parameters=[IF_MATCH],
        summary="Officer: refuse the cancellation",
    )
    @action(detail=True, methods=["post"], url_path="refuse-cancellation")
    def refuse_cancellation(self, request, pk=None):
        return self._command(request, "refuse_cancellation", serializers.ReasonSerializer)

    @extend_schema(
        request=serializers.ReassessmentSerializer,
        parameters=[IF_MATCH],
        summary="Officer: re-assess after a check",
    )
    @action(detail=True, methods=["post"])
    def reassess(self, request, pk=None):
        declaration = self.get_object()
        given = serializers.ReassessmentSerializer(data=request.data)
        given.is_valid(raise_exception=True)
        changes = {
            **given.validated_data["changes"],
            "item_changes": {
                str(number): {
                    key: value for key, value in row.items() if key in request.data["item_changes"][number]
                }
                for number, row in given.validated_data["item_changes"].items()
            },
        }
        updated = lifecycle.declaration_reassess(
            actor=request.user,
            declaration=declaration,
            changes=changes,
            reason=given.validated_data["reason"],
            expected_version=_expected_version(request),
        )
        return self._respond(updated)

    @extend_schema(request=None, parameters=[IF_MATCH], summary="Officer: release the goods (once paid)")
    @action(detail=True, methods=["post"])
    def release(self, request, pk=None):
        return self._command(request, "release")

    @extend_schema(
        request={"multipart/form-data": serializers.DocumentUploadSerializer},
        responses=serializers.DeclarationDocumentSerializer,
        summary="Attach a document (PDF or image)",
    )
    @action(detail=True, methods=["post"])
    def documents(self, request, pk=None):
        declaration = self.get_object()
        given = serializers.DocumentUploadSerializer(data=request.data)
        given.is_valid(raise_exception=True)
        values = given.validated_data
        document = drafts.declaration_document_attach(
            actor=request.user,
            declaration=declaration,
            document_type=values["document_type"].upper(),
            reference=values["reference"],
            issued_on=values.get("issued_on"),
            item_number=values.get("item_number"),
            file=values.get("file"),
        )
        return Response(
            serializers.DeclarationDocumentSerializer(document).data, status=status.HTTP_201_CREATED
        )

    @extend_schema(request=None, responses={204: None}, summary="Remove a document from a draft")
    @action(detail=True, methods=["delete"], url_path=r"documents/(?P<document_id>[0-9]+)")
    def document_remove(self, request, pk=None, document_id=None):
        declaration = self.get_object()
        try:
            document = declaration.documents.get(pk=document_id)
        except DeclarationDocument.DoesNotExist:
            raise exceptions.NotFound() from None
        drafts.declaration_document_remove(actor=request.user, document=document)
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(
        request=None,
        responses={
            (200, "application/xml"): OpenApiResponse(
                OpenApiTypes.BINARY, description="WCO DM 3.6 XML that validates against the DEC-DMS schemas"
            )
        },
        summary="The declaration as WCO Data Model 3.6 XML (customs-to-customs exchange)",
    )
    @action(detail=True, methods=["get"], url_path="wcodm")
    def wcodm(self, request, pk=None):
        try:
            content, filename = declaration_wcodm_export(self.get_object())
        except ExportFailed as failed:
            raise exceptions.APIException(str(failed)) from None
        response = HttpResponse(content, content_type="application/xml; charset=utf-8")
        response["Content-Disposition"] = f'attachment; filename="{filename}"'
        return response

    def perform_content_negotiation(self, request, force=False):
        # The WCO DM export answers XML whatever Accept asks; its errors are the JSON envelope.
        return super().perform_content_negotiation(request, force=force or self.action == "wcodm")

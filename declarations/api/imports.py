"""The imports API: send an ASYCUDA World or WCO DM file, get a draft and the import report.

``POST /api/v1/declaration-imports/`` takes the XML as the body (``application/xml``, with ``trader`` and
``office`` as query parameters) or as a multipart upload (``file``, ``trader``, ``office``); it answers
202 with the import, which a worker reads within seconds. ``GET /api/v1/declaration-imports/{id}/`` gives
its status, then the draft's id and the report, or the reason it was refused (schema errors with lines).
"""

import hashlib
import types

from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import exceptions, mixins, serializers, status, viewsets
from rest_framework.parsers import MultiPartParser
from rest_framework.response import Response

from customs.api.authentication import HasApiScope, ReadWriteScopes
from customs.api.parsers import TextXmlParser, XmlParser
from customs.choices import ApiScope
from customs.xmlsafe import DEFAULT_MAX_BYTES
from declarations.api.idempotency import IDEMPOTENCY_KEY, idempotent
from declarations.models import DeclarationImport
from declarations.selectors import declaration_import_list_for_user
from declarations.services.errors import DeclarationInvalid, NotAuthorised
from declarations.services.imports import declaration_import_request


class DeclarationImportSerializer(serializers.ModelSerializer):
    trader = serializers.SlugRelatedField(slug_field="taxpayer_id", read_only=True)
    office = serializers.SlugRelatedField(slug_field="code", read_only=True)

    class Meta:
        model = DeclarationImport
        fields = [
            "id",
            "filename",
            "size",
            "sha256",
            "format",
            "status",
            "trader",
            "office",
            "declaration",
            "error_code",
            "error_message",
            "problems",
            "report",
            "created_at",
            "finished_at",
            "duration_ms",
        ]
        read_only_fields = fields


TRADER = OpenApiParameter(
    "trader",
    OpenApiTypes.STR,
    description="Taxpayer ID of the trader, used when the file's is not registered",
)
OFFICE = OpenApiParameter(
    "office", OpenApiTypes.STR, description="Office code, used when the file's is not ours"
)


@extend_schema_view(
    list=extend_schema(summary="Your imports, newest first"),
    retrieve=extend_schema(
        summary="One import: its status, then the draft and the report, or why it was refused"
    ),
)
class DeclarationImportViewSet(
    ReadWriteScopes, mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet
):
    serializer_class = DeclarationImportSerializer
    permission_classes = [*viewsets.GenericViewSet.permission_classes, HasApiScope]
    parser_classes = [XmlParser, TextXmlParser, MultiPartParser]

    read_scope, write_scope = ApiScope.DECLARATIONS_READ, ApiScope.DECLARATIONS_WRITE

    def get_queryset(self):
        return declaration_import_list_for_user(self.request.user).select_related("trader", "office")

    def handle_exception(self, exc):
        if isinstance(exc, DeclarationInvalid):
            exc = exceptions.ValidationError(
                {
                    error.field: [exceptions.ErrorDetail(error.message, code=error.code)]
                    for error in exc.errors
                }
            )
        elif isinstance(exc, NotAuthorised):
            exc = exceptions.PermissionDenied(str(exc))
        return super().handle_exception(exc)

    @extend_schema(
        summary="Send an ASYCUDA World or WCO DM 3.6 declaration file: it becomes a draft, with a report",
        request={
            "application/xml": OpenApiTypes.BINARY,
            "text/xml": OpenApiTypes.BINARY,
            "multipart/form-data": {
                "type": "object",
                "properties": {
                    "file": {"type": "string", "format": "binary"},
                    "trader": {"type": "string"},
                    "office": {"type": "string"},
                },
                "required": ["file"],
            },
        },
        parameters=[TRADER, OFFICE, IDEMPOTENCY_KEY],
        responses={202: DeclarationImportSerializer},
    )
    def create(self, request, *args, **kwargs):
        content, filename = self._content(request)
        data = request.data if not isinstance(request.data, bytes | bytearray) else {}
        trader = (data.get("trader") or request.query_params.get("trader") or "").strip()
        office = (data.get("office") or request.query_params.get("office") or "").strip().upper()
        # The idempotency key's request hash is of the file's bytes and the choices.
        keyed = types.SimpleNamespace(
            headers=request.headers,
            user=request.user,
            data={"sha256": hashlib.sha256(content).hexdigest(), "trader": trader, "office": office},
        )

        def run():
            record = declaration_import_request(
                actor=request.user, content=content, filename=filename, trader_code=trader, office_code=office
            )
            return Response(
                DeclarationImportSerializer(record, context=self.get_serializer_context()).data,
                status=status.HTTP_202_ACCEPTED,
                headers={"Location": f"/api/v1/declaration-imports/{record.pk}/"},
            )

        return idempotent(keyed, "declarations.import", run)

    @staticmethod
    def _content(request) -> tuple[bytes, str]:
        data = request.data
        if isinstance(data, bytes | bytearray):
            return bytes(data), request.query_params.get("filename", "declaration.xml")
        upload = data.get("file") if hasattr(data, "get") else None
        if upload is None or not hasattr(upload, "read"):
            raise exceptions.ValidationError(
                {
                    "file": [
                        exceptions.ErrorDetail(
                            _("Send the XML file as the body or as 'file'."), code="required"
                        )
                    ]
                }
            )
        return upload.read(DEFAULT_MAX_BYTES + 1), upload.name or "declaration.xml"

"""Public documents under /.well-known/: no sign-in, cacheable, for border posts and neighbouring services."""

from django.http import JsonResponse
from django.views.decorators.cache import cache_control
from django.views.decorators.http import require_safe

from transit.signing import jwks

JWKS_CONTENT_TYPE = "application/jwk-set+json"


@require_safe
@cache_control(public=True, max_age=300)
def jwks_document(request):
    """The public keys that sign the QR token of transit accompanying documents, as a JWK Set (RFC 7517).
    Cached for five minutes: a new key is published before it signs anything (see transit.signing)."""
    return JsonResponse(jwks(), content_type=JWKS_CONTENT_TYPE)

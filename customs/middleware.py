"""Request id for logs and audit; the second-factor gate for staff."""

import re

from django.http import JsonResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.translation import gettext

from customs.requestcontext import current_request_id, new_request_id

_SAFE_REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{1,64}$")


class RequestIdMiddleware:
    """Takes ``X-Request-ID`` from a proxy when well-formed, else makes one; echoes it in the response."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        incoming = request.headers.get("X-Request-ID", "")
        request_id = incoming if _SAFE_REQUEST_ID.match(incoming) else new_request_id()
        request.request_id = request_id
        token = current_request_id.set(request_id)
        try:
            response = self.get_response(request)
        finally:
            current_request_id.reset(token)
        response["X-Request-ID"] = request_id
        return response


class SecondFactorRequiredMiddleware:
    """Staff who signed in with a password but not yet a second factor may only reach the
    second-factor pages: verify (or, first time, enrol) before anything else."""

    OPEN_PREFIXES = ("/static/", "/accounts/", "/i18n/", "/webauthn/", "/favicon.ico")

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = request.user
        if (
            user.is_authenticated
            and getattr(user, "requires_second_factor", False)
            and not user.is_verified()
            and not request.path.startswith(self.OPEN_PREFIXES)
        ):
            from customs.selectors import user_has_second_factor

            if request.path.startswith("/api/"):
                return JsonResponse(
                    {
                        "error": {
                            "code": "second_factor_required",
                            "message": gettext("Verify your second factor before using the API."),
                        }
                    },
                    status=403,
                )
            target = "second-factor" if user_has_second_factor(user) else "second-factor-setup"
            return redirect(f"{reverse(target)}?next={request.get_full_path()}")
        return self.get_response(request)

"""Security headers that Django's own settings do not cover, and refusing NUL characters."""

from collections.abc import Callable
from urllib.parse import unquote_to_bytes

from django.conf import settings
from django.http import HttpRequest, HttpResponse, HttpResponseBase, JsonResponse
from django.utils.cache import add_never_cache_headers
from django.utils.translation import gettext as _

BUILTIN_CSP_MIDDLEWARE = "django.middleware.csp.ContentSecurityPolicyMiddleware"


def csp_header_value(policy: dict[str, list[str]]) -> str:
    """The policy as one header value; a nonce placeholder is dropped (no nonces without
    Django 6's middleware)."""
    parts = []
    for directive, values in policy.items():
        kept = [v for v in values if not v.startswith("<")]
        if kept:
            parts.append(f"{directive} {' '.join(kept)}")
    return "; ".join(parts)


def permissions_policy_value(policy: dict[str, list[str]]) -> str:
    return ", ".join(f"{feature}=({' '.join(allow)})" for feature, allow in policy.items())


class SecurityHeadersMiddleware:
    """Adds Permissions-Policy and Cross-Origin-Resource-Policy to every response, and the
    Content-Security-Policy on Django 5.2, where ``django.middleware.csp`` does not exist.
    A response for a logged-in person (session or phone token) is marked not to be stored:
    on a shared office PC the next user's Back button must not bring it back from the cache.

    A header a view has set itself is left alone.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponseBase]) -> None:
        self.get_response = get_response
        self.headers = {
            "Permissions-Policy": permissions_policy_value(settings.PERMISSIONS_POLICY),
            # Another site may not embed Tepat's responses (a selfie, an export) by URL.
            "Cross-Origin-Resource-Policy": "same-origin",
        }
        if BUILTIN_CSP_MIDDLEWARE not in settings.MIDDLEWARE:
            self.headers["Content-Security-Policy"] = csp_header_value(settings.SECURE_CSP)

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        response = self.get_response(request)
        for name, value in self.headers.items():
            response.headers.setdefault(name, value)
        if "Cache-Control" not in response and _is_personal(request):
            add_never_cache_headers(response)
        return response


def _is_personal(request: HttpRequest) -> bool:
    # No user attribute: answered before AuthenticationMiddleware (a static file).
    user = getattr(request, "user", None)
    return "HTTP_AUTHORIZATION" in request.META or bool(user and user.is_authenticated)


class NulRefusedMiddleware:
    """Refuses a NUL character in the path, the query string or a JSON body with a 400.

    No Tepat field holds one, Django's forms already refuse it, and PostgreSQL cannot store it
    in a text column: left to reach a query it would be a 500 there and pass on SQLite.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponseBase]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        if _has_nul(request):
            message = _("The request contains a NUL character, which is not allowed.")
            if request.path.startswith("/api/"):
                return JsonResponse({"detail": message}, status=400)
            return HttpResponse(message, status=400, content_type="text/plain; charset=utf-8")
        return self.get_response(request)


def _has_nul(request: HttpRequest) -> bool:
    if "\x00" in request.path or b"\x00" in unquote_to_bytes(request.META.get("QUERY_STRING", "")):
        return True
    if request.content_type == "application/json":
        body = request.body
        return b"\x00" in body or b"\\u0000" in body
    return False

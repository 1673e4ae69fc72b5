"""/.well-known/security.txt (RFC 9116): whom a finder of a vulnerability should tell; the
media origin's file view."""

from datetime import timedelta

from django.conf import settings
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseBase
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.cache import cache_control, never_cache
from django.views.decorators.http import require_GET

from tepat.uploads import MediaLinkInvalid, file_response, media_link_open


@require_GET
@cache_control(public=True, max_age=60 * 60)
def security_txt(request: HttpRequest) -> HttpResponse:
    # Computed per request, so the file never goes stale on a server nobody redeploys.
    # Midnight UTC of the day a year ahead: less than a year away, as the RFC recommends.
    expires = (timezone.now() + timedelta(days=365)).replace(
        hour=0, minute=0, second=0, microsecond=0
    )
    lines = [
        f"Contact: {settings.SECURITY_CONTACT}",
        f"Expires: {expires:%Y-%m-%dT%H:%M:%SZ}",
        "Preferred-Languages: id, en",
        f"Canonical: {request.build_absolute_uri(reverse('security_txt'))}",
    ]
    return HttpResponse("\n".join(lines) + "\n", content_type="text/plain; charset=utf-8")


# Nothing a file served here may do: no script, no style, no plugin, no frame, no form, a
# unique opaque origin (sandbox), not even embeddable by another site.
MEDIA_CSP = "default-src 'none'; sandbox; frame-ancestors 'none'; form-action 'none'"


@require_GET
@never_cache
def media_file(request: HttpRequest, token: str) -> HttpResponseBase:
    """A private download on the media origin (``TEPAT_MEDIA_ORIGIN``), by a link that
    ``private_download`` made after its view checked who may see the file. Only on the media
    origin's host: the application's origin never serves these bytes."""
    origin = settings.TEPAT_MEDIA_ORIGIN
    if not origin or request.build_absolute_uri("/").rstrip("/") != origin:
        raise Http404
    try:
        path, filename, content_type = media_link_open(token)
    except MediaLinkInvalid:
        raise Http404 from None
    try:
        response = file_response(path, filename=filename, content_type=content_type)
    except FileNotFoundError:
        raise Http404 from None
    response["Content-Security-Policy"] = MEDIA_CSP
    response["Cross-Origin-Resource-Policy"] = "same-origin"
    response["Referrer-Policy"] = "no-referrer"
    response["X-Robots-Tag"] = "noindex"
    return response

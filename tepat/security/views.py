"""/.well-known/security.txt (RFC 9116): whom a finder of a vulnerability should tell."""

from datetime import timedelta

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.cache import cache_control
from django.views.decorators.http import require_GET


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

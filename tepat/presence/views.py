"""The phone app's shell: the page, its service worker and its manifest.

The shell is public and holds no data; everything personal comes from the API with the
app's token. The service worker is served from /app/ so its scope can be /app/.
"""

from pathlib import Path

from django.http import FileResponse, HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

STATIC = Path(__file__).resolve().parent / "static" / "presence"


@require_GET
def app_shell(request: HttpRequest) -> HttpResponse:
    return render(
        request,
        "presence/app.html",
        {
            "api_base": "/api/v1",
            "sw_url": "/app/sw.js",
            "manifest_url": "/app/manifest.webmanifest",
        },
    )


@require_GET
def service_worker(request: HttpRequest) -> FileResponse:
    response = FileResponse((STATIC / "sw.js").open("rb"), content_type="application/javascript")
    response["Service-Worker-Allowed"] = "/app/"
    response["Cache-Control"] = "no-cache"  # a new version must reach phones at once
    return response


@require_GET
def manifest(request: HttpRequest) -> FileResponse:
    return FileResponse(
        (STATIC / "manifest.webmanifest").open("rb"), content_type="application/manifest+json"
    )

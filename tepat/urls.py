from django.contrib import admin
from django.urls import include, path, re_path

from tepat.accounts import urls as account_urls
from tepat.accounts import views as account_views
from tepat.api import api
from tepat.presence import device_views
from tepat.presence import urls as presence_urls
from tepat.security import views as security_views

admin.site.site_header = "Tepat — Back office"
admin.site.site_title = "Tepat"

urlpatterns = [
    path("", account_views.home, name="home"),
    path("healthz", account_views.healthz, name="healthz"),
    path("akun/", include("tepat.accounts.urls")),
    path("akun/mfa/webauthn/", include(account_urls.webauthn_urlpatterns)),
    path("org/", include("tepat.org.urls")),
    path("app/", include("tepat.presence.urls")),
    path("presensi/", include((presence_urls.office_urlpatterns, "presence_office"))),
    path("kinerja/", include("tepat.kinerja.urls")),
    path("pantau/", include("tepat.monitor.urls")),
    path("tpp/", include("tepat.tpp.urls")),
    path("unduhan/", include("tepat.exports.urls")),
    path("i18n/", include("django.conf.urls.i18n")),
    path("admin/", admin.site.urls),
    path("api/v1/", api.urls),
    path(".well-known/security.txt", security_views.security_txt, name="security_txt"),
    # Only on TEPAT_MEDIA_ORIGIN's host (404 elsewhere): private downloads by short-lived link.
    path("berkas/<str:token>/", security_views.media_file, name="media_file"),
    # Attendance machines call these fixed paths (ZKTeco push; some firmware adds .aspx).
    re_path(r"^iclock/cdata(?:\.aspx)?$", device_views.cdata, name="iclock_cdata"),
    re_path(r"^iclock/getrequest(?:\.aspx)?$", device_views.getrequest, name="iclock_getrequest"),
    re_path(r"^iclock/devicecmd(?:\.aspx)?$", device_views.devicecmd, name="iclock_devicecmd"),
    re_path(r"^iclock/ping(?:\.aspx)?$", device_views.ping, name="iclock_ping"),
    path(
        "mesin/fingerspot/<str:secret>",
        device_views.fingerspot_webhook,
        name="fingerspot_webhook",
    ),
]

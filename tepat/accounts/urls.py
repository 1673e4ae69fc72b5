from django.contrib.auth import views as auth_views
from django.urls import path
from django.views.i18n import JavaScriptCatalog

from tepat.accounts import mfa_views, password_reset, views, webauthn

app_name = "accounts"
urlpatterns = [
    path("masuk/", views.LoginView.as_view(), name="login"),
    path("keluar/", auth_views.LogoutView.as_view(), name="logout"),
    path(
        "lupa-sandi/",
        password_reset.PasswordResetRequestView.as_view(),
        name="password_reset",
    ),
    path(
        "lupa-sandi/terkirim/",
        password_reset.PasswordResetSentView.as_view(),
        name="password_reset_done",
    ),
    path(
        "atur-sandi/<uidb64>/<token>/",
        password_reset.PasswordResetSetView.as_view(),
        name="password_reset_confirm",
    ),
    path(
        "atur-sandi/selesai/",
        password_reset.PasswordResetFinishedView.as_view(),
        name="password_reset_complete",
    ),
    path("mfa/daftar/", mfa_views.mfa_enrol, name="mfa_enrol"),
    path("mfa/verifikasi/", mfa_views.mfa_verify, name="mfa_verify"),
    path("mfa/kode-pemulihan/", mfa_views.mfa_recovery_codes, name="mfa_recovery_codes"),
    path("mfa/kunci-keamanan/", mfa_views.mfa_keys, name="mfa_keys"),
]
# The library's JSON ceremonies, as Tepat narrows them (tepat.accounts.webauthn), under
# /akun/mfa/ (reachable before the second step, as the code page is). Namespace
# "otp_webauthn": the library's template tags reverse these names.
webauthn_urlpatterns = (
    [
        path(
            "registration/begin/", webauthn.KeyRegistrationBegin.as_view(),
            name="credential-registration-begin",
        ),
        path(
            "registration/complete/", webauthn.KeyRegistrationComplete.as_view(),
            name="credential-registration-complete",
        ),
        path(
            "authentication/begin/", webauthn.KeyAuthenticationBegin.as_view(),
            name="credential-authentication-begin",
        ),
        path(
            "authentication/complete/", webauthn.KeyAuthenticationComplete.as_view(),
            name="credential-authentication-complete",
        ),
        path(
            "jsi18n/", JavaScriptCatalog.as_view(packages=["django_otp_webauthn"]),
            name="js-i18n-catalog",
        ),
    ],
    "otp_webauthn",
)  # fmt: skip

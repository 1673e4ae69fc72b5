from django.contrib.auth import views as auth_views
from django.urls import path

from tepat.accounts import mfa_views, password_reset, views

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
]

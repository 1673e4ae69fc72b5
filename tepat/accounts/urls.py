from django.contrib.auth import views as auth_views
from django.urls import path

from tepat.accounts import mfa_views, views

app_name = "accounts"
urlpatterns = [
    path("masuk/", views.LoginView.as_view(), name="login"),
    path("keluar/", auth_views.LogoutView.as_view(), name="logout"),
    path("mfa/daftar/", mfa_views.mfa_enrol, name="mfa_enrol"),
    path("mfa/verifikasi/", mfa_views.mfa_verify, name="mfa_verify"),
    path("mfa/kode-pemulihan/", mfa_views.mfa_recovery_codes, name="mfa_recovery_codes"),
]

from django.urls import path

from tepat.kinerja import views

app_name = "kinerja"
urlpatterns = [
    path("", views.my_month, name="my_month"),
    path("laporan/baru/", views.report_new, name="report_new"),
    path("laporan/<int:report_id>/", views.report_edit, name="report_edit"),
    path("laporan/<int:report_id>/lampiran/", views.attachment_download, name="attachment"),
    path("tinjauan/", views.review_queue, name="review_queue"),
    path("tim/", views.team_month, name="team_month"),
    path("skp/", views.skp_page, name="skp"),
    path("skp/keputusan/", views.skp_decide, name="skp_decide"),
]

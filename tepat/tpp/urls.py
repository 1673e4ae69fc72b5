from django.urls import path

from tepat.tpp import views

app_name = "tpp"
urlpatterns = [
    path("", views.run_list, name="run_list"),
    path("mulai/", views.run_start, name="run_start"),
    path("run/<int:run_id>/", views.run_detail, name="run_detail"),
    path("run/<int:run_id>/terima/", views.run_accept, name="run_accept"),
    path("run/<int:run_id>/opd/<int:opd_id>/", views.run_opd, name="run_opd"),
    path("hasil/<int:result_id>/", views.result_detail, name="result_detail"),
    path("saya/", views.my_tpp, name="my_tpp"),
    path("pengajuan/", views.submission_list, name="submission_list"),
    path("pengajuan/buka/", views.submission_open, name="submission_open"),
    path("pengajuan/<int:submission_id>/", views.submission_detail, name="submission_detail"),
    path(
        "pengajuan/<int:submission_id>/langkah/<slug:step>/",
        views.submission_step,
        name="submission_step",
    ),
    path(
        "pengajuan/<int:submission_id>/unduh/<slug:kind>/",
        views.submission_download,
        name="submission_download",
    ),
]

from django.urls import include, path

from hiretext.benchprobe import views

urlpatterns = [
    path("webhooks/bench/bare", views.bare),
    path("bench/", include("hiretext.benchprobe.urls")),
]

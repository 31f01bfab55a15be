from django.urls import include, path

urlpatterns = [path("bench/", include("hiretext.benchprobe.urls"))]

from django.urls import path

from hiretext.benchprobe import views

app_name = "benchprobe"
urlpatterns = [
    path("bare", views.bare, name="bare"),
    path("insert", views.insert, name="insert"),
    path("insert-raw", views.insert_raw, name="insert-raw"),
]

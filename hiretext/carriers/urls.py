from django.urls import path

from hiretext.carriers import views

app_name = "webhooks"
urlpatterns = [
    path("<slug:carrier>/inbound", views.inbound, name="inbound"),
    path("<slug:carrier>/status", views.status, name="status"),
]

from django.urls import path

from hiretext.carrier_accounts import views

app_name = "carrier_accounts"

urlpatterns = [
    path("", views.carrier_settings, name="settings"),
    path("test/", views.test_connection, name="test"),
]

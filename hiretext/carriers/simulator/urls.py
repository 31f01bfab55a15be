from django.urls import path

from hiretext.carriers.simulator import views

app_name = "simulator"
urlpatterns = [
    path("phones/<str:e164>", views.phone_page, name="phone"),
    path("phones/<str:e164>/reply", views.phone_reply, name="phone-reply"),
    path("api/messages", views.api_messages, name="api-messages"),
    path("api/inbound", views.api_inbound, name="api-inbound"),
    path("api/phones/<str:e164>/fail", views.api_fail, name="api-fail"),
]

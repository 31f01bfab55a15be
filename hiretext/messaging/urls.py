from django.urls import path

from hiretext.messaging import views

app_name = "messaging"
urlpatterns = [
    path("sms/<str:kind>/<int:person_id>/", views.sms_modal, name="sms-modal"),
    path("conversations/<int:conversation_id>/thread/", views.thread, name="thread"),
]

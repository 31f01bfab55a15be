from django.urls import path

from hiretext.numbers import views

app_name = "numbers"

urlpatterns = [
    path("", views.seats, name="seats"),
    path("seats/<int:seat_id>/auto/", views.auto, name="auto"),
    path("seats/<int:seat_id>/choose/", views.choose, name="choose"),
    path("seats/<int:seat_id>/confirm/", views.confirm, name="confirm"),
    path("seats/<int:seat_id>/release/", views.release, name="release"),
    path("seats/<int:seat_id>/assign/", views.assign, name="assign"),
    path(
        "seats/<int:seat_id>/users/<int:user_id>/remove/",
        views.remove_user,
        name="remove-user",
    ),
]

from django.urls import path

from hiretext.inbox import views

app_name = "inbox"
urlpatterns = [
    path("events", views.event_stream, name="events"),
    path("bell/", views.bell, name="bell"),
    path("widget/", views.widget, name="widget"),
    path("settings/", views.notification_settings, name="settings"),
    path("chats/", views.chats, name="chats"),
    path("chats/list/", views.chat_list, name="chat-list"),
    path("chats/people/", views.people, name="people"),
    path("chats/<int:conversation_id>/", views.chat, name="chat"),
    path("chats/<int:conversation_id>/thread/", views.chat_thread, name="chat-thread"),
    path("chats/with/<str:kind>/<int:person_id>/", views.chat_with, name="chat-with"),
    path("chats/with/<str:kind>/<int:person_id>/send/", views.chat_send, name="chat-send"),
]

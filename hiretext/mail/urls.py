"""Included at the site root (before the pages): webhooks, the simulator's mailboxes, tabs."""

from django.urls import path

from hiretext.mail import views, webhooks

app_name = "mail"
urlpatterns = [
    path("webhooks/email/<slug:provider>/inbound", webhooks.inbound_email, name="inbound"),
    # Mailgun posts the raw MIME to a forward URL that ends in "mime" (the parsed form else).
    path(
        "webhooks/email/<slug:provider>/inbound_mime", webhooks.inbound_email, name="inbound-mime"
    ),
    path("simulator/mailbox", views.mailbox_page, name="mailbox"),
    path("simulator/mailbox/reply", views.mailbox_reply, name="mailbox-reply"),
    path("simulator/api/mailbox", views.api_mailbox, name="api-mailbox"),
    path("simulator/api/mail-reply", views.api_mail_reply, name="api-mail-reply"),
    path(
        "candidates/<int:person_id>/communications/",
        views.candidate_communications,
        name="candidate-communications",
    ),
    path(
        "candidates/<int:person_id>/communications/thread/",
        views.candidate_communications_thread,
        name="candidate-communications-thread",
    ),
    path(
        "contacts/<int:person_id>/communications/",
        views.contact_communications,
        name="contact-communications",
    ),
    path(
        "contacts/<int:person_id>/communications/thread/",
        views.contact_communications_thread,
        name="contact-communications-thread",
    ),
]

from django.urls import path

from hiretext.web import views

urlpatterns = [
    path("", views.home, name="home"),
    path("jobs/", views.job_list, name="job-list"),
    path("jobs/<int:job_id>/", views.job_detail, name="job-detail"),
    path("candidates/", views.candidate_pool, name="candidate-pool"),
    path("candidates/new/", views.candidate_create, name="candidate-create"),
    path("candidates/<int:candidate_id>/", views.candidate_profile, name="candidate-profile"),
    path("candidates/<int:candidate_id>/edit/", views.candidate_edit, name="candidate-edit"),
    path(
        "candidates/<int:candidate_id>/consent/",
        views.candidate_consent,
        name="candidate-consent",
    ),
    path("contacts/", views.contact_list, name="contact-list"),
    path("contacts/new/", views.contact_create, name="contact-create"),
    path("contacts/<int:contact_id>/", views.contact_profile, name="contact-profile"),
    path("contacts/<int:contact_id>/edit/", views.contact_edit, name="contact-edit"),
    path("contacts/<int:contact_id>/consent/", views.contact_consent, name="contact-consent"),
]

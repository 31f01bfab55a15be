from django.conf import settings
from django.contrib.auth import views as auth_views
from django.urls import include, path

from hiretext.accounts.forms import SignInForm
from hiretext.api.core import api, register_routers
from hiretext.web import views as web_views

register_routers()

urlpatterns = [
    path("healthz", web_views.healthz, name="healthz"),
    path("webhooks/", include("hiretext.carriers.urls")),  # the busiest route: matched early
    path(
        "login/",
        auth_views.LoginView.as_view(
            authentication_form=SignInForm, redirect_authenticated_user=True
        ),
        name="login",
    ),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("api/v1/", api.urls),
    path("api/docs", web_views.api_docs_redirect, name="api-docs"),
    path("admin/text-messaging/", include("hiretext.numbers.urls")),
    path("admin/carrier/", include("hiretext.carrier_accounts.urls")),
    path("", include("hiretext.mail.urls")),  # e-mail webhooks, mailboxes, Communications
    path("simulator/", include("hiretext.carriers.simulator.urls")),
    path("messaging/", include("hiretext.messaging.urls")),
    path("inbox/", include("hiretext.inbox.urls")),
    path("", include("hiretext.web.urls")),
]

if settings.HIRETEXT_BENCH_ENDPOINTS:
    from hiretext.benchprobe import views as bench_views

    # Calibration views for `make bench`; never mounted unless asked for.
    urlpatterns.insert(0, path("bench/", include("hiretext.benchprobe.urls")))
    # The same bare view where webhooks are served: on the machine middleware.
    urlpatterns.insert(0, path("webhooks/bench/bare", bench_views.bare, name="bench-bare-machine"))

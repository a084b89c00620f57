from django.contrib import admin
from django.urls import include, path

from api.urls import me_patterns
from avatars import health
from operations import views as operations

urlpatterns = [
    path("healthz", health.healthz, name="healthz"),
    path("readyz", health.readyz, name="readyz"),
    path("metrics", operations.metrics, name="metrics"),
    # Before the admin's own URLs, inside its login (admin_view).
    path(
        "admin/service-health/",
        admin.site.admin_view(operations.service_health),
        name="service_health",
    ),
    path("admin/", admin.site.urls),
    # The signed-in API first: one prefix check for other requests, none of the site's
    # patterns for its own. Also under /api/v3/, like /v3/profiles.
    path("v3/me/", include(me_patterns)),
    path("api/v3/me/", include(me_patterns)),
    # Django's set_language view: POST /i18n/setlang/ with `language` and `next`.
    path("i18n/", include("django.conf.urls.i18n")),
    path("", include("avatars.urls")),
    path("", include("accounts.urls")),
    path("", include("api.urls")),
    # Last: the public profile page answers any other first segment (`/<slug>`).
    path("", include("profiles.urls")),
]

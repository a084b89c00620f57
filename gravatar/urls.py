from django.contrib import admin
from django.urls import include, path

from avatars import health

urlpatterns = [
    path("healthz", health.healthz, name="healthz"),
    path("readyz", health.readyz, name="readyz"),
    path("admin/", admin.site.urls),
    path("", include("avatars.urls")),
    path("", include("accounts.urls")),
    path("", include("api.urls")),
    # Last: the public profile page answers any other first segment (`/<slug>`).
    path("", include("profiles.urls")),
]

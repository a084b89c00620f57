from django.urls import URLPattern, path, re_path

from profiles import pages, report, views

# The owner's pages, under /account/. Each URL name is its view's and its service's name.
account_patterns: list[URLPattern] = [
    path("account/profile/", pages.profile_edit, name="profile_edit"),
    path("account/profile/slug/", pages.profile_slug_check, name="profile_slug_check"),
    path("account/profile/links/add/", pages.profile_link_add, name="profile_link_add"),
    path(
        "account/profile/links/<int:pk>/remove/",
        pages.profile_link_remove,
        name="profile_link_remove",
    ),
    path("account/profile/accounts/add/", pages.profile_account_add, name="profile_account_add"),
    path(
        "account/profile/accounts/<int:pk>/remove/",
        pages.profile_account_remove,
        name="profile_account_remove",
    ),
    path(
        "account/profile/accounts/<int:pk>/verify/",
        pages.profile_account_verify,
        name="profile_account_verify",
    ),
    path(
        "account/profile/addresses/",
        pages.profile_addresses_choose,
        name="profile_addresses_choose",
    ),
]

# A visitor's report of a public profile (the link on its page): a second path segment, so no
# public answer's pattern matches it, and never cached at the edge.
report_patterns: list[URLPattern] = [
    re_path(r"^(?P<slug>[^/.]+)/report$", report.profile_report, name="profile_report"),
]

# The public answers. Included last by gravatar/urls.py: `/<slug>` would shadow any later route.
public_patterns: list[URLPattern] = [
    re_path(r"^(?:api/)?v3/profiles/(?P<name>[^/]+)$", views.profile_v3, name="profile_v3"),
    re_path(r"^v3/openapi(?:\.json)?$", views.api_openapi, name="api_openapi"),
    re_path(r"^(?:api/)?v3/(?P<rest>.*)$", views.api_not_found, name="api_not_found"),
    re_path(r"^(?P<name>[^/.]+)\.(?P<fmt>[^/.]+)$", views.profile_format, name="profile_format"),
    re_path(r"^(?P<name>[^/.]+)$", views.profile_page, name="profile_page"),
]

urlpatterns = account_patterns + report_patterns + public_patterns

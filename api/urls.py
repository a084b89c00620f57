"""The API's URLs: the OAuth 2.0 endpoints (django-oauth-toolkit's views), /v3/me/ (also
under /api/v3/, like /v3/profiles), the library images' URLs and the account pages."""

from django.urls import URLPattern, path, re_path
from oauth2_provider import views as oauth_views

from api import pages, views

oauth_patterns: list[URLPattern] = [
    path("oauth/authorize/", oauth_views.AuthorizationView.as_view(), name="oauth_authorize"),
    path("oauth/token/", oauth_views.TokenView.as_view(), name="oauth_token"),
    path("oauth/revoke/", oauth_views.RevokeTokenView.as_view(), name="oauth_revoke"),
]

# Under /v3/me/ and /api/v3/me/ (gravatar/urls.py).
me_patterns: list[URLPattern] = [
    path("profile", views.me_profile, name="me_profile"),
    path("avatars", views.me_avatars, name="me_avatars"),
    re_path(r"^avatars/(?P<image_id>[^/]+)$", views.me_avatar, name="me_avatar"),
    re_path(r"^avatars/(?P<image_id>[^/]+)/email$", views.me_avatar_email, name="me_avatar_email"),
    path("associated-email", views.me_associated_email, name="me_associated_email"),
    # Anything else under /v3/me/ is a JSON 404 too, not the site's HTML page.
    re_path(r"", views.me_not_found, name="me_not_found"),
]

image_patterns: list[URLPattern] = [
    path("userimage/<str:image_id>", views.api_image, name="api_image"),
]

account_patterns: list[URLPattern] = [
    path("account/apps/", pages.api_apps, name="api_apps"),
    path("account/apps/register/", pages.application_register, name="application_register"),
    path("account/apps/<int:pk>/delete/", pages.application_delete, name="application_delete"),
    path("account/apps/<int:pk>/revoke/", pages.authorization_revoke, name="authorization_revoke"),
    path("account/tokens/", pages.api_tokens, name="api_tokens"),
    path("account/tokens/create/", pages.personal_token_create, name="personal_token_create"),
    path(
        "account/tokens/<int:pk>/revoke/",
        pages.personal_token_revoke,
        name="personal_token_revoke",
    ),
    path("account/keys/create/", pages.site_key_create, name="site_key_create"),
    path("account/keys/<int:pk>/revoke/", pages.site_key_revoke, name="site_key_revoke"),
]

urlpatterns = oauth_patterns + image_patterns + account_patterns

from django.urls import URLPattern, re_path

from avatars import views

urlpatterns: list[URLPattern] = [
    # Any last segment: a malformed hash is "no avatar" (the default image), never a 404.
    # The trailing slash is optional, so /avatar/<hash>/ behaves as /avatar/<hash>.
    re_path(r"^avatar/(?P<name>[^/]*)/?$", views.avatar, name="avatar"),
]

from django.urls import URLPattern, path, re_path

from avatars import pages, views

urlpatterns: list[URLPattern] = [
    # Any last segment: a malformed hash is "no avatar" (the default image), never a 404.
    # The trailing slash is optional, so /avatar/<hash>/ behaves as /avatar/<hash>.
    re_path(r"^avatar/(?P<name>[^/]*)/?$", views.avatar, name="avatar"),
    # The pages: each URL name is its view's and its service's name.
    path("", pages.home, name="home"),
    path("domain/", pages.domain_check, name="domain_check"),
    path("signup/", pages.signup, name="signup"),
    path("login/link/", pages.magic_link_request, name="magic_link_request"),
    path("confirm/<int:pk>/<str:token>/", pages.address_confirm, name="address_confirm"),
    path("account/", pages.dashboard, name="dashboard"),
    path("account/addresses/add/", pages.address_add, name="address_add"),
    path("account/addresses/<int:pk>/resend/", pages.address_resend, name="address_resend"),
    path("account/addresses/<int:pk>/remove/", pages.address_remove, name="address_remove"),
    path("account/addresses/<int:pk>/primary/", pages.address_primary, name="address_primary"),
    path("account/avatars/upload/", pages.avatar_upload, name="avatar_upload"),
    path("account/avatars/fetch/", pages.avatar_fetch, name="avatar_fetch"),
    path("account/avatars/<int:pk>/", pages.avatar_edit, name="avatar_edit"),
    path("account/avatars/<int:pk>/delete/", pages.avatar_delete, name="avatar_delete"),
    path("account/avatars/<int:pk>/preview/", pages.avatar_preview, name="avatar_preview"),
    path("account/export/", pages.data_export, name="data_export"),
    path("account/delete/", pages.account_delete, name="account_delete"),
]

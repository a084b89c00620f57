from django.contrib.auth import views as auth_views
from django.urls import path

from accounts import forms, views

urlpatterns = [
    path("", views.home, name="home"),
    path("signup/", views.signup, name="signup"),
    path("email-sent/", views.email_sent, name="email_sent"),
    path(
        "login/",
        auth_views.LoginView.as_view(
            authentication_form=forms.LoginForm, redirect_authenticated_user=True
        ),
        name="login",
    ),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("login/link/", views.magic_link_request, name="magic_link_request"),
    path(
        "login/link/<str:uidb64>/<str:token>/",
        views.magic_link_confirm,
        name="magic_link_confirm",
    ),
    path("password/change/", views.PasswordChangeView.as_view(), name="password_change"),
    path(
        "password/change/done/",
        auth_views.PasswordChangeDoneView.as_view(),
        name="password_change_done",
    ),
    path(
        "password/reset/",
        auth_views.PasswordResetView.as_view(form_class=forms.PasswordResetForm),
        name="password_reset",
    ),
    path(
        "password/reset/sent/",
        auth_views.PasswordResetDoneView.as_view(),
        name="password_reset_done",
    ),
    path(
        "password/reset/<str:uidb64>/<str:token>/",
        auth_views.PasswordResetConfirmView.as_view(),
        name="password_reset_confirm",
    ),
    path(
        "password/reset/done/",
        auth_views.PasswordResetCompleteView.as_view(),
        name="password_reset_complete",
    ),
    path("confirm/<int:pk>/<str:token>/", views.address_confirm, name="address_confirm"),
    path("account/", views.dashboard, name="dashboard"),
    path("account/addresses/add/", views.address_add, name="address_add"),
    path("account/addresses/<int:pk>/resend/", views.address_resend, name="address_resend"),
    path("account/addresses/<int:pk>/remove/", views.address_remove, name="address_remove"),
    path("account/addresses/<int:pk>/primary/", views.address_primary, name="address_primary"),
    path("account/avatars/upload/", views.avatar_upload, name="avatar_upload"),
    path("account/avatars/fetch/", views.avatar_fetch, name="avatar_fetch"),
    path("account/avatars/<int:pk>/", views.avatar_edit, name="avatar_edit"),
    path("account/avatars/<int:pk>/delete/", views.avatar_remove, name="avatar_delete"),
    path("account/avatars/<int:pk>/preview/", views.avatar_preview, name="avatar_preview"),
    path("account/profile/", views.profile, name="profile"),
    path("account/export/", views.data_export, name="data_export"),
    path("account/delete/", views.account_delete, name="account_delete"),
]

from django.contrib.auth import views as auth_views
from django.urls import path

from accounts import forms, views

urlpatterns = [
    # Django's set_language (POST) is /i18n/setlang/ (gravatar/urls.py); this page is for the
    # switcher of a page that has no CSRF token to send.
    path("i18n/", views.language_choose, name="language_choose"),
    path("email-sent/", views.email_sent, name="email_sent"),
    path(
        "login/",
        auth_views.LoginView.as_view(
            authentication_form=forms.LoginForm, redirect_authenticated_user=True
        ),
        name="login",
    ),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
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
]

from django.apps import AppConfig


class OperationsConfig(AppConfig):
    """What an operator reads: `/metrics` and the admin's Service health page. It depends on
    the other apps (it counts their rows and checks their dependencies), never the reverse."""

    name = "operations"
    default_auto_field = "django.db.models.BigAutoField"

from django.apps import AppConfig


class OperationsConfig(AppConfig):
    """What an operator reads: `/metrics` and the admin's Service health page. It depends on
    the other apps (it counts their rows and checks their dependencies), never the reverse."""

    name = "operations"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from django.conf import settings
        from django.core.signals import setting_changed

        from gravatar import metrics

        metrics.configure(enabled=settings.METRICS_ENABLED)
        setting_changed.connect(_metrics_setting_changed)


def _metrics_setting_changed(*, setting: str, value: object, **_: object) -> None:
    if setting == "METRICS_ENABLED":
        from gravatar import metrics

        metrics.configure(enabled=bool(value))

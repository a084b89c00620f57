from django.apps import AppConfig


class AvatarsConfig(AppConfig):
    name = "avatars"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # Registers the system checks: VARNISH_NODES (avatars.E101), the rest (avatars.E102 on).
        from avatars import checks, purging  # noqa: F401

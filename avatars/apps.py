from django.apps import AppConfig


class AvatarsConfig(AppConfig):
    name = "avatars"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # Registers the system check of VARNISH_NODES (avatars.E101).
        from avatars import purging  # noqa: F401

from django.apps import AppConfig


class ProfilesConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "profiles"
    verbose_name = "Profiles"

    def ready(self) -> None:
        # avatars cannot import profiles; it calls what is registered (avatars/hooks.py).
        from avatars import hooks
        from profiles.export import profile_data
        from profiles.services import profile_account_deleting

        hooks.export_part_register("profile", profile_data)
        hooks.deletion_part_register("profile", profile_account_deleting)

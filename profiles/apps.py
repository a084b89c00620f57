from django.apps import AppConfig


class ProfilesConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "profiles"
    verbose_name = "Profiles"

    def ready(self) -> None:
        # avatars cannot import profiles; it calls what is registered (avatars/hooks.py).
        from avatars import hooks
        from profiles import contract_vcl
        from profiles.export import profile_data
        from profiles.freshness import slug_keys_of_owners
        from profiles.services import profile_account_deleting

        hooks.export_part_register("profile", profile_data)
        hooks.deletion_part_register("profile", profile_account_deleting)
        hooks.owner_keys_register("profile", slug_keys_of_owners)
        hooks.vcl_section_register("profile", contract_vcl.render)
        # Moderators hide profiles, clear fields and resolve reports; nothing adds or deletes.
        hooks.moderator_permissions_register(
            "profiles",
            "view_profile",
            "change_profile",
            "view_profilereport",
            "change_profilereport",
        )

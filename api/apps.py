from django.apps import AppConfig


class ApiConfig(AppConfig):
    name = "api"
    verbose_name = "REST API for apps"

    def ready(self) -> None:
        # avatars cannot import api; its data export calls what is registered (avatars/hooks.py).
        from api import openapi
        from api.auth import site_key_request
        from api.export import api_data
        from avatars import hooks
        from profiles.keys import site_key_check_register
        from profiles.openapi import document_part_register

        hooks.export_part_register("api", api_data)
        # profiles cannot import api either; /v3/profiles asks what is registered for keys.
        site_key_check_register(site_key_request)
        # /v3/openapi.json (profiles' document) describes /v3/me/ too.
        document_part_register(lambda: (openapi.paths(), openapi.components()))

from django.apps import AppConfig


class ApiConfig(AppConfig):
    name = "api"
    verbose_name = "REST API for apps"

    def ready(self) -> None:
        # avatars cannot import api; its data export calls what is registered (avatars/hooks.py).
        from api.export import api_data
        from avatars import hooks

        hooks.export_part_register("api", api_data)

"""docker-compose.yml gives the app containers only variables the settings read, and wires the
Varnish tier the way deploy/varnish/ expects."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import yaml

from gravatar import settings as project_settings

ROOT = Path(__file__).resolve().parent.parent
COMPOSE = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
SERVICES: dict[str, dict[str, Any]] = COMPOSE["services"]


def variables_the_settings_read() -> set[str]:
    source = Path(project_settings.__file__).read_text()
    names = set(re.findall(r'env_(?:str|bool|int|list|networks|choice)\(\s*"([A-Z0-9_]+)"', source))
    # env_str also reads NAME_FILE (Docker secrets).
    files = set(re.findall(r'env_str\(\s*"([A-Z0-9_]+)"', source))
    return names | {f"{name}_FILE" for name in files}


def app_services() -> dict[str, dict[str, Any]]:
    return {
        name: service
        for name, service in SERVICES.items()
        if isinstance(service.get("build"), dict) and service["build"].get("target") == "app"
    }


def environment_of(service: dict[str, Any]) -> set[str]:
    environment = service.get("environment") or {}
    if isinstance(environment, list):
        return {item.split("=", 1)[0] for item in environment}
    return set(environment)


def test_the_app_containers_set_only_variables_the_settings_read():
    read = variables_the_settings_read()

    for name, service in app_services().items():
        unknown = environment_of(service) - read
        assert unknown == set(), f"{name} sets variables gravatar/settings.py never reads"


def test_the_scaled_out_shape_is_complete():
    apps = app_services()
    commands = {name: " ".join(service.get("command") or []) for name, service in apps.items()}

    assert {"postgres", "minio", "bucket", "varnish"} <= set(SERVICES)
    assert sum(1 for command in commands.values() if not command) == 2, "two gunicorn servers"
    assert any("purge_worker" in command for command in commands.values())
    assert any("migrate" in command for command in commands.values())
    assert SERVICES["varnish"]["build"]["target"] == "varnish"


def test_every_app_container_purges_the_varnish_service_and_uses_postgres_and_s3():
    for name, service in app_services().items():
        environment = service["environment"]
        assert environment["VARNISH_NODES"] == "http://varnish:6081", name
        assert environment["DATABASE_URL"].startswith("postgres://"), name
        assert environment["STORAGE"] == "s3", name


def test_the_varnish_backends_are_the_app_services_and_purgers_their_network():
    backends = (ROOT / "deploy/varnish/backends.compose.vcl").read_text()
    hosts = set(re.findall(r'\.host = "([^"]+)"', backends))
    subnet = COMPOSE["networks"]["default"]["ipam"]["config"][0]["subnet"]

    assert hosts == {"app1", "app2"}
    assert hosts <= set(SERVICES)
    network, bits = subnet.split("/")
    assert f'"{network}"/{bits};' in backends

"""docker-compose.yml gives the app containers only variables the settings read, wires the
Varnish tier the way deploy/varnish/ expects, and has the shape `make cluster` runs
(deploy/cluster.py): the same parts, configured through the same variables."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import yaml

from deploy.cluster import ClusterConfig, prometheus_targets
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
    edges = [
        name
        for name, service in SERVICES.items()
        if service.get("build", {}).get("target") == "varnish"
    ]

    assert {"postgres", "minio", "bucket", "redis", "prometheus"} <= set(SERVICES)
    assert sum(1 for command in commands.values() if not command) == 2, "two gunicorn servers"
    assert any("purge_worker" in command for command in commands.values())
    assert any("migrate" in command for command in commands.values())
    assert sorted(edges) == ["varnish1", "varnish2"]


def test_every_app_container_purges_both_varnish_nodes_and_uses_postgres_s3_and_redis():
    for name, service in app_services().items():
        environment = service["environment"]
        assert environment["VARNISH_NODES"] == "http://varnish1:6081,http://varnish2:6081", name
        assert environment["DATABASE_URL"].startswith("postgres://"), name
        assert environment["STORAGE"] == "s3", name
        assert environment["REDIS_URL"] == "redis://redis:6379/0", name
        assert environment["APP_NODES"] == "http://app1:8000,http://app2:8000", name


def test_the_varnish_backends_are_the_app_services_and_purgers_their_network():
    backends = (ROOT / "deploy/varnish/backends.compose.vcl").read_text()
    hosts = set(re.findall(r'\.host = "([^"]+)"', backends))
    subnet = COMPOSE["networks"]["default"]["ipam"]["config"][0]["subnet"]

    assert hosts == {"app1", "app2"}
    assert hosts <= set(SERVICES)
    network, bits = subnet.split("/")
    assert f'"{network}"/{bits};' in backends


# What makes the shape: the services every app process is told about.
SHAPE_VARIABLES = {
    "DATABASE_URL",
    "REDIS_URL",
    "STORAGE",
    "S3_BUCKET",
    "S3_ENDPOINT_URL",
    "S3_ACCESS_KEY_ID",
    "S3_SECRET_ACCESS_KEY",
    "S3_REGION",
    "VARNISH_NODES",
    "APP_NODES",
    "SITE_URL",
    "ALLOWED_HOSTS",
}


def compose_app_environment() -> dict[str, str]:
    """The app containers' environment with compose's ${NAME:-default} written out."""
    environment = SERVICES["app1"]["environment"]

    def interpolated(value: str) -> str:
        value = re.sub(r"\$\{[A-Z_]+:-([^}]*)\}", r"\1", str(value))
        return re.sub(r"\$\{[A-Z_]+:\?[^}]*\}", "a-secret-key-given-on-the-command-line", value)

    return {name: interpolated(value) for name, value in environment.items()}


def test_make_cluster_configures_the_same_shape(tmp_path):
    cluster = ClusterConfig(
        root=tmp_path, database_url="postgres://x@127.0.0.1/x", redis_url="redis://x"
    ).app_env()
    compose = compose_app_environment()

    assert set(cluster) >= SHAPE_VARIABLES
    assert set(compose) >= SHAPE_VARIABLES
    for name in ("VARNISH_NODES", "APP_NODES"):
        assert len(cluster[name].split(",")) == len(compose[name].split(",")) == 2, name
    assert cluster["STORAGE"] == compose["STORAGE"] == "s3"
    assert cluster["DATABASE_URL"].split(":")[0] == compose["DATABASE_URL"].split(":")[0]
    assert cluster["REDIS_URL"].split(":")[0] == compose["REDIS_URL"].split(":")[0]


def test_the_app_containers_configuration_passes_every_check_including_scale_out(tmp_path):
    environment = {
        **{k: v for k, v in os.environ.items() if k not in SHAPE_VARIABLES},
        **compose_app_environment(),
        "VAR_DIR": str(tmp_path),
        "AVATARS_IGNORE_RUN_ENV": "1",
    }
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--fail-level", "WARNING"],
        cwd=ROOT,
        env=environment,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr


def test_prometheus_scrapes_the_compose_services_with_the_clusters_jobs(tmp_path):
    mounted = {
        volume.split(":")[1]: volume.split(":")[0]
        for volume in SERVICES["prometheus"]["volumes"]
        if volume.startswith("./")
    }
    scrape = yaml.safe_load((ROOT / mounted["/etc/prometheus/prometheus.yml"]).read_text())
    jobs = {
        job["job_name"]: {
            target for config in job["static_configs"] for target in config["targets"]
        }
        for job in scrape["scrape_configs"]
    }
    cluster = ClusterConfig(root=tmp_path, database_url="postgres://x/x", redis_url="redis://x")

    assert set(jobs) == set(prometheus_targets(cluster))
    assert jobs["app"] == {f"{name}:8000" for name in ("app1", "app2")}
    assert jobs["varnish"] == {"varnish1:9131", "varnish2:9131"}
    for target in set().union(*jobs.values()) - {"localhost:9090"}:
        assert target.split(":")[0] in SERVICES, target


def test_prometheus_may_scrape_what_it_is_given_and_the_admin_may_read_it():
    """Every target in the compose Prometheus answers it: the apps allow its network, the
    purge worker serves its metrics on the port scraped, and the apps know where it is."""
    import ipaddress

    subnet = ipaddress.IPv4Network(COMPOSE["networks"]["default"]["ipam"]["config"][0]["subnet"])
    scrape = yaml.safe_load((ROOT / "deploy/prometheus/prometheus.compose.yml").read_text())
    targets = {
        job["job_name"]: {t for config in job["static_configs"] for t in config["targets"]}
        for job in scrape["scrape_configs"]
    }

    for name, service in app_services().items():
        environment = service["environment"]
        allowed = [
            ipaddress.IPv4Network(part.strip(), strict=False)
            for part in environment["METRICS_ALLOWED_ADDRESSES"].split(",")
            if ":" not in part
        ]
        assert any(subnet.subnet_of(network) for network in allowed), name
        assert environment["PROMETHEUS_URL"] == "http://prometheus:9090", name
    worker = SERVICES["purge-worker"]["environment"]
    assert targets["purge_worker"] == {f"purge-worker:{worker['PURGE_WORKER_METRICS_PORT']}"}
    assert worker["PURGE_WORKER_METRICS_HOST"] == "0.0.0.0"

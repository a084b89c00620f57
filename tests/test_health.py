"""/healthz says the process answers; /readyz says its database and storage do too."""

from __future__ import annotations

import pytest
from botocore.config import Config
from django.test import Client


def test_healthz_answers_without_touching_the_database(client: Client):
    # No django_db mark: any query here would raise.
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}
    assert "no-cache" in response["Cache-Control"]


@pytest.mark.django_db
def test_readyz_checks_database_and_storage(client: Client):
    response = client.get("/readyz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "database": "ok", "storage": "ok"}


@pytest.mark.django_db
def test_readyz_is_503_when_storage_is_unreachable(client: Client, settings):
    settings.STORAGES = {
        **settings.STORAGES,
        # Object storage on a port where nothing listens: a real, refused connection.
        "default": {
            "BACKEND": "storages.backends.s3.S3Storage",
            "OPTIONS": {
                "bucket_name": "avatars",
                "endpoint_url": "http://127.0.0.1:9",
                "access_key": "test",
                "secret_key": "test",
                "client_config": Config(retries={"max_attempts": 0}, connect_timeout=1),
            },
        },
    }
    response = client.get("/readyz")
    assert response.status_code == 503
    assert response.json()["storage"] == "unreachable"

# syntax=docker/dockerfile:1
# Two images from one file, as docker-compose.yml uses them:
#   app     - the Django service: gunicorn, the purge worker, migrations
#   varnish - Debian's Varnish 7.1 with varnish-modules (xkey), as the tests run it, and
#             prometheus-varnish-exporter beside it

FROM python:3.11-slim-bookworm AS app
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    VAR_DIR=/var/lib/avatars
WORKDIR /srv/avatars
# GNU gettext's msgfmt compiles the translation catalogues (compilemessages, below).
RUN apt-get update \
    && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends gettext \
    && rm -rf /var/lib/apt/lists/*
# Dependencies first: they change far less often than the code.
COPY pyproject.toml ./
RUN pip install --no-cache-dir .
COPY . .
# A throwaway key only for collectstatic; the containers get theirs from the environment.
RUN SECRET_KEY=collectstatic-only python manage.py collectstatic --noinput -v0 \
    && SECRET_KEY=collectstatic-only python manage.py compilemessages -v0 \
    && useradd --system --home-dir "$VAR_DIR" avatars \
    && mkdir -p "$VAR_DIR" && chown avatars "$VAR_DIR"
USER avatars
EXPOSE 8000
CMD ["gunicorn", "gravatar.wsgi", "-c", "deploy/gunicorn.conf.py", "--bind", "0.0.0.0:8000"]

FROM debian:bookworm-slim AS varnish
# varnishd compiles VCL with gcc at every load.
RUN apt-get update \
    && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
        varnish varnish-modules gcc libc6-dev prometheus-varnish-exporter \
    && rm -rf /var/lib/apt/lists/*
COPY deploy/varnish/default.vcl deploy/varnish/contract.vcl /etc/varnish/
COPY deploy/varnish/backends.compose.vcl /etc/varnish/backends.vcl
EXPOSE 6081 9131
# The exporter reads this varnishd's counters (its shared memory), so it runs beside it;
# varnishd stays the main process.
CMD ["/bin/sh", "-c", "prometheus-varnish-exporter -web.listen-address :9131 & exec varnishd -F -a :6081 -f /etc/varnish/default.vcl -s malloc,512m"]

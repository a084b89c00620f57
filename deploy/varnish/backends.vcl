# The deployment's side of default.vcl: the app servers behind the director `app`, and the
# addresses allowed to PURGE. This one is `make run`'s (deploy/run-local.sh writes a copy for
# the chosen PORT); backends.compose.vcl is docker-compose's.

backend app1 {
    .host = "127.0.0.1";
    .port = "8000";
    .probe = app_health;
    .connect_timeout = 1s;
    .first_byte_timeout = 30s;
    .between_bytes_timeout = 10s;
}

acl purgers {
    "127.0.0.1";
    "::1";
}

sub vcl_init {
    new app = directors.round_robin();
    app.add_backend(app1);
}

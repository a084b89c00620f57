# docker-compose.yml's backends.vcl: the two app containers, and purges from the compose
# network (172.28.0.0/24, fixed in docker-compose.yml) only. Not from its gateway: Docker's
# proxy for the published port connects from there on behalf of outside clients.

backend app1 {
    .host = "app1";
    .port = "8000";
    .probe = app_health;
    .connect_timeout = 1s;
    .first_byte_timeout = 30s;
    .between_bytes_timeout = 10s;
}

backend app2 {
    .host = "app2";
    .port = "8000";
    .probe = app_health;
    .connect_timeout = 1s;
    .first_byte_timeout = 30s;
    .between_bytes_timeout = 10s;
}

acl purgers {
    "127.0.0.1";
    "172.28.0.0"/24;
    ! "172.28.0.1";
}

sub vcl_init {
    new app = directors.round_robin();
    app.add_backend(app1);
    app.add_backend(app2);
}

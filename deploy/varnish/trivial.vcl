vcl 4.1;
# The baseline for `make bench`: the same backends, Varnish's built-in behaviour and nothing
# else (no normalisation, no grace policy, no purging). bench/varnish_bench.py compares the
# hit path of default.vcl against this one.

import directors;

probe app_health {
    .url = "/healthz";
    .interval = 1s;
    .window = 3;
    .threshold = 2;
    .initial = 2;
}

include "backends.vcl";

sub vcl_recv {
    set req.backend_hint = app.backend();
    # backends.vcl always defines the acl; this VCL never purges.
    if (client.ip !~ purgers) {
        set req.http.X-Outsider = "1";
    }
}

vcl 4.1;
# The cache tier in front of the app servers (Debian's Varnish 7.1 with varnish-modules).
#
# Avatars are kept for as long as the app's s-maxage says (a week) because the app purges
# them by xkey (both digests of an address) the moment what a hash serves changes.
# Equivalent avatar URLs are rewritten to one canonical URL so they share one object.
# Nothing but avatars and static files is ever cached: account and admin pages pass.
#
# The deployment's app servers and the addresses allowed to purge live in backends.vcl
# (found on vcl_path): a director called `app` and an acl called `purgers`.

import std;
import directors;
import xkey;

# /healthz answers without touching the database, so a slow database does not mark every
# app server sick at once; grace covers a database outage. `.initial` equals `.threshold` so
# a freshly loaded VCL starts with its backends healthy instead of sick for a few probes.
probe app_health {
    .request =
        "GET /healthz HTTP/1.1"
        "Host: localhost"
        "User-Agent: varnish-probe"
        "Connection: close";
    .expected_response = 200;
    .interval = 1s;
    .timeout = 1s;
    .window = 3;
    .threshold = 2;
    .initial = 2;
}

include "backends.vcl";

sub vcl_recv {
    if (req.restarts == 0) {
        # Internal state travels in X-Av-* request headers; never trust a client's copy.
        unset req.http.X-Av-Cache;
        unset req.http.X-Av-Stale;
    }
    if (req.method == "PURGE") {
        call purge_by_xkey;
    }
    if (req.url ~ "^[a-zA-Z]+://") {
        # Absolute-form request target: the path is what identifies the object.
        set req.url = regsub(req.url, "^[a-zA-Z]+://[^/]*", "");
    }
    set req.backend_hint = app.backend();

    if (req.url ~ "^/avatar/" && (req.method == "GET" || req.method == "HEAD")) {
        # The endpoint reads no session and no credentials: without this every logged-in
        # visitor would miss the cache.
        unset req.http.Cookie;
        unset req.http.Authorization;
        if (req.restarts == 0) {
            call avatar_normalise;
        }
        call grace_policy;
        return (hash);
    }
    if (req.url ~ "^/static/" && (req.method == "GET" || req.method == "HEAD")) {
        unset req.http.Cookie;
        return (hash);
    }
    # Account pages, the admin, health checks, forms: always from the app.
    return (pass);
}

sub purge_by_xkey {
    # Front Varnish with the PROXY protocol if a TLS terminator sits before it, or
    # client.ip is the terminator's address and this acl no longer protects anything.
    if (client.ip !~ purgers) {
        return (synth(403, "Forbidden"));
    }
    if (req.http.xkey-purge ~ "[^\s,]") {
        # Hard: the app purges on changes that may be private (a removed address, a
        # rejected image), which must never be served again, not even stale.
        set req.http.X-Av-Purged = xkey.purge(req.http.xkey-purge);
    } elsif (req.http.xkey-softpurge ~ "[^\s,]") {
        # Soft: for operators refreshing many objects without a stampede on the app;
        # the old copy stays usable in grace while a fresh one is fetched.
        set req.http.X-Av-Purged = xkey.softpurge(req.http.xkey-softpurge);
    } else {
        return (synth(400, "Name the keys in an xkey-purge or xkey-softpurge header"));
    }
    return (synth(200, "Purged " + req.http.X-Av-Purged));
}

# Rewrites an avatar URL and its Accept header to the one canonical form the app would
# answer identically, mirroring avatars/request.py: the short parameter name wins over the
# long one, the last value of a repeated parameter wins, defaults and clamps are applied,
# unknown parameters are dropped. A value this code cannot read the way the app would
# (percent-encoded, or with '+') is passed through untouched for the app to decide, so a
# rewrite can only ever merge URLs the app treats alike.
sub avatar_normalise {
    if (req.url !~ "^/avatar/[^/?%]*/?([?]|$)" || req.url ~ "[?&][^=&]*%") {
        # A name with a slash or a percent sign, or a percent-encoded parameter name:
        # cached under its own URL, exactly as asked.
        return;
    }
    set req.http.X-Av-Name = std.tolower(regsub(req.url, "^/avatar/([^/?]*)/?([?].*)?$", "\1"));
    if (req.url ~ "[?]") {
        # Framed with '&' so every parameter, first or last, reads "&name=value&".
        set req.http.X-Av-Q = "&" + regsub(req.url, "^[^?]*[?]", "") + "&";
    } else {
        set req.http.X-Av-Q = "&";
    }

    # The name: any extension is split off at the last dot; only .webp and .avif choose a
    # format, and any extension at all turns off Accept negotiation.
    if (req.http.X-Av-Name ~ "[.]") {
        set req.http.X-Av-Ext = regsub(req.http.X-Av-Name, "^.*[.]", "");
        set req.http.X-Av-Hash = regsub(req.http.X-Av-Name, "[.][^.]*$", "");
    } else {
        set req.http.X-Av-Hash = req.http.X-Av-Name;
    }
    if (req.http.X-Av-Hash !~ "^([0-9a-f]{32}|[0-9a-f]{64})$") {
        # A malformed hash is no hash: the same default image as /avatar/.
        set req.http.X-Av-Hash = "";
    }
    if (req.http.X-Av-Ext == "webp" || req.http.X-Av-Ext == "avif") {
        set req.http.X-Av-Url = "/avatar/" + req.http.X-Av-Hash + "." + req.http.X-Av-Ext;
    } else {
        set req.http.X-Av-Url = "/avatar/" + req.http.X-Av-Hash;
    }
    if (req.http.X-Av-Ext ~ ".") {
        unset req.http.Accept;
    } else {
        call accept_reduce;
    }

    # s / size: 1..2048, anything unreadable 80.
    if (req.http.X-Av-Q ~ "&s(=[^&]*)?&") {
        set req.http.X-Av-V = regsub(req.http.X-Av-Q, "^.*&s(=([^&]*))?&.*$", "\2");
    } else {
        set req.http.X-Av-V = regsub(req.http.X-Av-Q, "^.*&size(=([^&]*))?&.*$|^.*$", "\2");
    }
    if (req.http.X-Av-V ~ "^[0-9]+$") {
        set req.http.X-Av-V = regsub(req.http.X-Av-V, "^0+", "");
        if (req.http.X-Av-V == "") {
            set req.http.X-Av-V = "80";
        } elsif (req.http.X-Av-V ~ "^[0-9]{5,}$" || std.integer(req.http.X-Av-V, 80) > 2048) {
            set req.http.X-Av-V = "2048";
        }
    } elsif (req.http.X-Av-V !~ "[%+]") {
        set req.http.X-Av-V = "80";
    }
    set req.http.X-Av-Url = req.http.X-Av-Url + "?s=" + req.http.X-Av-V;

    # r / rating: g, pg, r or x; anything else g.
    if (req.http.X-Av-Q ~ "&r(=[^&]*)?&") {
        set req.http.X-Av-V = regsub(req.http.X-Av-Q, "^.*&r(=([^&]*))?&.*$", "\2");
    } else {
        set req.http.X-Av-V = regsub(req.http.X-Av-Q, "^.*&rating(=([^&]*))?&.*$|^.*$", "\2");
    }
    if (std.tolower(req.http.X-Av-V) ~ "^(g|pg|r|x)$") {
        set req.http.X-Av-V = std.tolower(req.http.X-Av-V);
    } elsif (req.http.X-Av-V !~ "[%+]") {
        set req.http.X-Av-V = "g";
    }
    set req.http.X-Av-Url = req.http.X-Av-Url + "&r=" + req.http.X-Av-V;

    # f / forcedefault: y, 1 or true mean yes; anything else no.
    if (req.http.X-Av-Q ~ "&f(=[^&]*)?&") {
        set req.http.X-Av-V = regsub(req.http.X-Av-Q, "^.*&f(=([^&]*))?&.*$", "\2");
    } else {
        set req.http.X-Av-V = regsub(
            req.http.X-Av-Q, "^.*&forcedefault(=([^&]*))?&.*$|^.*$", "\2");
    }
    if (std.tolower(req.http.X-Av-V) ~ "^(y|1|true)$") {
        set req.http.X-Av-V = "y";
    } elsif (req.http.X-Av-V !~ "[%+]") {
        set req.http.X-Av-V = "n";
    }
    set req.http.X-Av-Url = req.http.X-Av-Url + "&f=" + req.http.X-Av-V;

    # d / default: a keyword (mm is mp), or a URL the app validates. An unknown keyword
    # means the service's own default, which is what no d= means too.
    if (req.http.X-Av-Q ~ "&d(=[^&]*)?&") {
        set req.http.X-Av-V = regsub(req.http.X-Av-Q, "^.*&d(=([^&]*))?&.*$", "\2");
    } else {
        set req.http.X-Av-V = regsub(req.http.X-Av-Q, "^.*&default(=([^&]*))?&.*$|^.*$", "\2");
    }
    if (std.tolower(req.http.X-Av-V) == "mm") {
        set req.http.X-Av-V = "mp";
    }
    if (std.tolower(req.http.X-Av-V) ~
        "^(404|mp|identicon|monsterid|wavatar|retro|robohash|blank|initials|color)$") {
        set req.http.X-Av-V = std.tolower(req.http.X-Av-V);
    } elsif (req.http.X-Av-V !~ "[%+:]") {
        set req.http.X-Av-V = "";
    }
    if (req.http.X-Av-V != "") {
        set req.http.X-Av-Url = req.http.X-Av-Url + "&d=" + req.http.X-Av-V;
    }

    # initials and name draw only d=initials, which may also be the service's default.
    if (req.http.X-Av-V == "" || req.http.X-Av-V !~
        "^(404|mp|identicon|monsterid|wavatar|retro|robohash|blank|color)$") {
        call initials_keep;
    }

    set req.url = req.http.X-Av-Url;
    unset req.http.X-Av-Name;
    unset req.http.X-Av-Q;
    unset req.http.X-Av-Ext;
    unset req.http.X-Av-Hash;
    unset req.http.X-Av-Url;
    unset req.http.X-Av-V;
}

sub initials_keep {
    set req.http.X-Av-V = regsub(req.http.X-Av-Q, "^.*&initials(=([^&]*))?&.*$|^.*$", "\2");
    if (req.http.X-Av-V ~ "^[a-zA-Z0-9]+$") {
        # Plain letters win over name=, upper-cased, at most three.
        set req.http.X-Av-Url = req.http.X-Av-Url + "&initials=" +
            std.toupper(regsub(req.http.X-Av-V, "^(.{1,3}).*$", "\1"));
        return;
    }
    if (req.http.X-Av-V != "") {
        set req.http.X-Av-Url = req.http.X-Av-Url + "&initials=" + req.http.X-Av-V;
    }
    set req.http.X-Av-V = regsub(req.http.X-Av-Q, "^.*&name(=([^&]*))?&.*$|^.*$", "\2");
    if (req.http.X-Av-V != "") {
        set req.http.X-Av-Url = req.http.X-Av-Url + "&name=" + req.http.X-Av-V;
    }
}

# The app serves AVIF when Accept names image/avif, else WebP when it names image/webp,
# else the natural format; so three values are all the cache needs to tell apart.
sub accept_reduce {
    if (req.http.Accept !~ "image/") {
        unset req.http.Accept;
    } elsif (req.http.Accept ~ "(?i)(^|,)\s*image/avif\s*(;|,|$)" &&
             req.http.Accept !~ "(?i)(^|,)\s*image/avif\s*;([^,]*;)?\s*q\s*=\s*0*(\.0*)?\s*(;|,|$)") {
        set req.http.Accept = "image/avif";
    } elsif (req.http.Accept ~ "(?i)(^|,)\s*image/webp\s*(;|,|$)" &&
             req.http.Accept !~ "(?i)(^|,)\s*image/webp\s*;([^,]*;)?\s*q\s*=\s*0*(\.0*)?\s*(;|,|$)") {
        set req.http.Accept = "image/webp";
    } else {
        unset req.http.Accept;
    }
}

# Within stale-while-revalidate a stale object is served while a fresh one is fetched in the
# background. Past it, the object is refetched now, unless the backends are down or the
# fetch fails: then it is served for as long as stale-if-error allows (see vcl_hit and
# vcl_deliver). Varnish 7.1 reads stale-while-revalidate but not stale-if-error, so the
# object's grace is set to the longer of the two in vcl_backend_response.
sub grace_policy {
    # Set either way: the flag survives a restart.
    set req.hash_always_miss = (req.http.X-Av-Stale == "refresh");
}

sub vcl_hash {
    if (req.url ~ "^/(avatar|static)/") {
        # The same bytes whatever the Host: one object, not one per alias of the site.
        hash_data(req.url);
        return (lookup);
    }
}

sub vcl_hit {
    if (obj.ttl >= 0s) {
        set req.http.X-Av-Cache = "HIT";
        return (deliver);
    }
    if (req.http.X-Av-Stale != "allow" && std.healthy(req.backend_hint) &&
        obj.ttl + std.duration(obj.http.X-Av-Swr + "s", 0s) < 0s) {
        set req.http.X-Av-Stale = "refresh";
        return (restart);
    }
    set req.http.X-Av-Cache = "HIT-STALE";
    return (deliver);
}

sub vcl_miss {
    set req.http.X-Av-Cache = "MISS";
}

sub vcl_pass {
    set req.http.X-Av-Cache = "PASS";
}

sub vcl_backend_response {
    if (bereq.uncacheable) {
        return (deliver);
    }
    if (beresp.status >= 500 && bereq.url ~ "^/avatar/") {
        # Nothing is stored, so a stale copy survives; the client side retries (vcl_synth).
        return (abandon);
    }
    if (beresp.http.Set-Cookie || !beresp.http.Cache-Control) {
        # A cookie is someone's session; no Cache-Control is a page nobody meant to share
        # (a Django 404, an error page).
        set beresp.ttl = 120s;
        set beresp.uncacheable = true;
        return (deliver);
    }
    # beresp.grace holds stale-while-revalidate here; stale-if-error may extend it.
    set beresp.http.X-Av-Swr = beresp.grace;
    if (beresp.http.Cache-Control ~ "stale-if-error=[0-9]+" &&
        std.duration(regsub(beresp.http.Cache-Control, "^.*stale-if-error=([0-9]+).*$", "\1s"),
            0s) > beresp.grace) {
        set beresp.grace = std.duration(
            regsub(beresp.http.Cache-Control, "^.*stale-if-error=([0-9]+).*$", "\1s"), 0s);
    }
}

sub vcl_backend_error {
    if (bereq.url ~ "^/avatar/") {
        # An error object would replace the stale copy that vcl_synth is about to fall back on.
        return (abandon);
    }
}

sub vcl_synth {
    if (resp.status == 503 && req.url ~ "^/avatar/" && req.http.X-Av-Stale != "allow" &&
        (req.method == "GET" || req.method == "HEAD")) {
        # The fetch failed: a stale copy (up to stale-if-error) beats an error, and the
        # retry goes to the next app server of the director.
        set req.http.X-Av-Stale = "allow";
        return (restart);
    }
    if (req.http.X-Av-Cache) {
        set resp.http.X-Cache = req.http.X-Av-Cache;
    }
}

sub vcl_deliver {
    if (req.http.X-Av-Cache) {
        set resp.http.X-Cache = req.http.X-Av-Cache;
    }
    unset resp.http.X-Av-Swr;
    if (req.url ~ "^/avatar/") {
        # Purging is ours; downstream shared caches cannot be purged, so they get the
        # browser lifetime, and the object's age here must not eat into it.
        unset resp.http.xkey;
        unset resp.http.Age;
        set resp.http.Cache-Control = regsuball(resp.http.Cache-Control, ",\s*s-maxage=[0-9]+", "");
    }
}

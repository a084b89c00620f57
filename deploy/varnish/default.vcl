vcl 4.1;
# The cache tier in front of the app servers (Debian's Varnish 7.1 with varnish-modules).
#
# Avatars are kept for as long as the app's s-maxage says (a week) because the app purges
# them by xkey (both digests of an address) the moment what a hash serves changes.
# Equivalent avatar URLs are rewritten to one canonical URL so they share one object.
# Public profile answers (/<slug>, /<hash>, /<name>.<format>) are cached the same way, purged
# by the digests and the slug's key; /v3/ passes, because the app counts each client's rate
# limit there (shared by every node) and reports it in headers no cached answer could carry.
# Nothing else is ever cached: account and admin pages, the report form and the API pass.
#
# The deployment's app servers and the addresses allowed to purge live in backends.vcl
# (found on vcl_path): a director called `app` and an acl called `purgers`. What each
# parameter value means (sizes, hashes, keywords, ratings, formats) is in contract.vcl, next
# to this file, generated from avatars/contract.py by `manage.py vcl_contract`.
#
# Speed: every request runs vcl_recv, and in Varnish 7.1 a regsub costs about a microsecond
# and a header write a quarter of one, against some 40 for the whole hit. So the common
# shapes of URL take a path of string comparisons (vmod str), scratch values live in vmod
# var (per request, never logged, never seen by the app or the client), and the general,
# regex-heavy path only runs for the rest.

import std;
import directors;
import xkey;
import str;
import var;

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
include "contract.vcl";

sub vcl_recv {
    if (req.method == "PURGE") {
        call purge_by_xkey;
    }
    if (req.url == "/edge-health" || str.startswith(req.url, "/edge-health?")) {
        call edge_health;
    }
    set req.backend_hint = app.backend();
    if (req.method != "GET" && req.method != "HEAD") {
        # The client's address for the app's login throttling (TRUSTED_PROXIES), replacing
        # whatever the client claimed; cached paths need none.
        set req.http.X-Forwarded-For = client.ip;
        return (pass);
    }
    if (str.startswith(req.url, "/avatar/")) {
        # The endpoint reads no session and no credentials: without this every logged-in
        # visitor would miss the cache.
        unset req.http.Cookie;
        unset req.http.Authorization;
        if (req.restarts == 0) {
            call avatar_normalise;
        }
        if (req.restarts > 0) {
            # The flag survives a restart; before the first, nothing has set it.
            set req.hash_always_miss = (var.get("stale") == "refresh");
        }
        return (hash);
    }
    if (str.startswith(req.url, "/static/")) {
        unset req.http.Cookie;
        return (hash);
    }
    if (req.url == "/metrics" || str.startswith(req.url, "/metrics?")) {
        # Never cached, whatever a rule for one-segment URLs (profiles) may do below: the app
        # decides who reads it from the client's address written here, or its bearer token.
        set req.http.X-Forwarded-For = client.ip;
        return (pass);
    }
    if (str.startswith(req.url, "/v3/") || str.startswith(req.url, "/api/v3/")) {
        # Each answer carries its client's own X-RateLimit-* counts, and the count is shared
        # by every node in the app's store; vsthrottle would count per node and forget on
        # restart. So the app sees every request, from the address written here, with its
        # Authorization header: a site key's answer has fields for its holder alone, and a
        # token's (/v3/me/) is one person's; none of them is ever stored here.
        unset req.http.Cookie;
        set req.http.X-Forwarded-For = client.ip;
        return (pass);
    }
    call contract_profile_url;
    if (var.get("url")) {
        if (str.contains(var.get("url"), ".")) {
            # A format (/<name>.json, ...): the same bytes in every language.
            unset req.http.Accept-Language;
        } else {
            # The page, in the visitor's language: before the cookies go.
            call page_language;
        }
        # The same answer for everyone: no session, no credentials; an answer that sets a
        # cookie is not stored (vcl_backend_response). `?source=` and other parameters the
        # answer does not read are gone from var url, the key and the backend's URL.
        unset req.http.Cookie;
        unset req.http.Authorization;
        return (hash);
    }
    # Account pages, the admin, health checks, forms: always from the app.
    set req.http.X-Forwarded-For = client.ip;
    return (pass);
}

# The public profile page answers in the visitor's language and says `Vary: Accept-Language`
# (gravatar/locale.py), which Varnish honours: one stored copy per value of the header. So the
# header is rewritten to one of the site's languages (settings.LANGUAGES; tests/varnish/
# test_edge_languages.py holds this list to it): the language cookie the switcher sets, when
# it names one, else the first of them the browser lists (browsers list by preference; a
# q-value is not weighed), else English. At most four copies, and the cookie still counts
# although the app never sees it here.
sub page_language {
    if (req.http.Cookie ~ "(?:^|;)\s*django_language=(?:en|de|fr|es)\s*(?:;|$)") {
        set req.http.Accept-Language = regsub(req.http.Cookie,
            "^(?:.*;)?\s*django_language=(en|de|fr|es)\s*(?:;.*)?$", "\1");
    } elsif (req.http.Accept-Language ~ "(?i)(?:^|,)\s*(?:en|de|fr|es)(?:-[^,;]*)?\s*(?:[;,]|$)") {
        set req.http.Accept-Language = std.tolower(regsub(req.http.Accept-Language,
            "(?i)^(?:[^,]*,)*?\s*(en|de|fr|es)(?:-[^,;]*)?\s*(?:;[^,]*)?(?:,.*)?$", "\1"));
    } else {
        set req.http.Accept-Language = "en";
    }
}

# For a DNS or load-balancer monitor: 200 while the probes see at least one app server
# healthy, 503 when they see none, so the monitor routes around this node (or its data
# centre) while it could only serve what it holds. Answered from the probes' state alone:
# no request reaches the app and nothing is cached (vcl_synth adds no-store).
sub edge_health {
    if (std.healthy(app.backend())) {
        return (synth(200, "OK"));
    }
    return (synth(503, "No healthy app server"));
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
        var.set("purged", "" + xkey.purge(req.http.xkey-purge));
    } elsif (req.http.xkey-softpurge ~ "[^\s,]") {
        # Soft: for operators refreshing many objects without a stampede on the app;
        # the old copy stays usable in grace while a fresh one is fetched.
        var.set("purged", "" + xkey.softpurge(req.http.xkey-softpurge));
    } else {
        return (synth(400, "Name the keys in an xkey-purge or xkey-softpurge header"));
    }
    return (synth(200, "Purged " + var.get("purged")));
}

# Rewrites an avatar URL and its Accept header to the one canonical form the app would
# answer identically (avatars/request.py): the short parameter name wins over the long one,
# the last value of a repeated parameter wins, defaults and clamps are applied, unknown
# parameters are dropped. A value this code cannot read the way the app would (percent-
# encoded, or with '+') is passed through untouched for the app to decide, so a rewrite can
# only ever merge URLs the app treats alike.
#
#     /avatar/<hash>[.<format>]?s=<size>[&d=..][&initials=..][&name=..]&r=<rating>&f=<y|n>
#
# r and f come last so that what pages send, "?s=N" with maybe a d= keyword, becomes the
# canonical form by appending the defaults: no substitution on the hot path.
sub avatar_normalise {
    call contract_page_url;
    if (var.get("url")) {
        # What pages send (s=, maybe a d= keyword) or the canonical form itself.
        call accept_reduce;
        return;
    }
    if (str.contains(req.url, "%") && req.url ~ "[?&][^=&]*%") {
        # A percent-encoded parameter name: cached under its own URL, exactly as asked.
        return;
    }
    call contract_plain_name;
    if (var.get_int("at") > 0) {
        # The common shape: a lower-case MD5 or SHA-256, no extension, no slash.
        var.set("path", str.take(req.url, var.get_int("at")));
        var.set("rest", str.take(req.url, str.count(req.url) - var.get_int("at"),
            var.get_int("at")));
    } else {
        call avatar_name_general;
        if (!var.get("path")) {
            return;
        }
    }
    if (str.startswith(var.get("rest"), "?")) {
        # Framed with '&' so that every parameter, first or last, reads "&name=value&".
        var.set("q", "&" + str.take(var.get("rest"), str.count(var.get("rest")) - 1, 1) + "&");
    } else {
        var.set("q", "&");
    }
    if (var.get("ext")) {
        # Any extension turns off negotiation; only some name a format (contract_name_path).
        unset req.http.Accept;
    } else {
        call accept_reduce;
    }
    call size_param;
    call rating_param;
    call force_param;
    call default_param;
    # The hash key; the backend gets it as the URL on a miss (vcl_miss), and hits never pay
    # for rewriting req.url.
    var.set("url", var.get("path") + "?s=" + var.get("s") + var.get("d") + var.get("initials") +
        "&r=" + var.get("r") + "&f=" + var.get("f"));
}

# Anything but "/avatar/<lower-case hash>": upper case, an extension (split off at the last
# dot), a malformed hash (the same default image as /avatar/), a trailing slash.
sub avatar_name_general {
    if (req.url !~ "^/avatar/[^/?%]*/?(?:[?]|$)") {
        # A name with a slash or a percent-encoded character: cached under its own URL.
        return;
    }
    var.set("name", std.tolower(regsub(req.url, "^/avatar/([^/?]*)/?(?:[?].*)?$", "\1")));
    var.set("rest", regsub(req.url, "^/avatar/[^/?]*/?", ""));
    var.set("hash", var.get("name"));
    if (var.get("name") ~ "[.]") {
        # Any dot, even a trailing one, turns off negotiation, as in the app.
        var.set("hash", regsub(var.get("name"), "[.][^.]*$", ""));
        var.set("ext", regsub(var.get("name"), "^.*[.]", ""));
    }
    call contract_name_path;
}

# s / size, read as contract_size says.
sub size_param {
    if (!str.contains(var.get("q"), "&s")) {
        # Neither name is there: the common case, settled without a regex.
        var.set("v", "");
    } elsif (str.contains(var.get("q"), "&s=") || str.contains(var.get("q"), "&s&")) {
        var.set("v", regsub(var.get("q"), "^.*&s(?:=([^&]*))?&.*$", "\1"));
    } elsif (str.contains(var.get("q"), "&size=") || str.contains(var.get("q"), "&size&")) {
        var.set("v", regsub(var.get("q"), "^.*&size(?:=([^&]*))?&.*$", "\1"));
    } else {
        var.set("v", "");
    }
    call contract_size;
}

# r / rating, read as contract_rating says.
sub rating_param {
    if (!str.contains(var.get("q"), "&r")) {
        # Neither name is there: the common case, settled without a regex.
        var.set("v", "");
    } elsif (str.contains(var.get("q"), "&r=") || str.contains(var.get("q"), "&r&")) {
        var.set("v", regsub(var.get("q"), "^.*&r(?:=([^&]*))?&.*$", "\1"));
    } elsif (str.contains(var.get("q"), "&rating=") || str.contains(var.get("q"), "&rating&")) {
        var.set("v", regsub(var.get("q"), "^.*&rating(?:=([^&]*))?&.*$", "\1"));
    } else {
        var.set("v", "");
    }
    call contract_rating;
}

# f / forcedefault, read as contract_force says.
sub force_param {
    if (!str.contains(var.get("q"), "&f")) {
        # Neither name is there: the common case, settled without a regex.
        var.set("v", "");
    } elsif (str.contains(var.get("q"), "&f=") || str.contains(var.get("q"), "&f&")) {
        var.set("v", regsub(var.get("q"), "^.*&f(?:=([^&]*))?&.*$", "\1"));
    } elsif (str.contains(var.get("q"), "&forcedefault=") ||
            str.contains(var.get("q"), "&forcedefault&")) {
        var.set("v", regsub(var.get("q"), "^.*&forcedefault(?:=([^&]*))?&.*$", "\1"));
    } else {
        var.set("v", "");
    }
    call contract_force;
}

# d / default: a keyword (or its alias), or a URL the app validates, as contract_default
# says. An unknown keyword means the service's own default, which is what no d= means too.
# initials and name only draw d=initials, which may also be the service's default.
sub default_param {
    if (!str.contains(var.get("q"), "&d")) {
        # Neither name is there: the common case, settled without a regex.
        var.set("v", "");
    } elsif (str.contains(var.get("q"), "&d=") || str.contains(var.get("q"), "&d&")) {
        var.set("v", regsub(var.get("q"), "^.*&d(?:=([^&]*))?&.*$", "\1"));
    } elsif (str.contains(var.get("q"), "&default=") || str.contains(var.get("q"), "&default&")) {
        var.set("v", regsub(var.get("q"), "^.*&default(?:=([^&]*))?&.*$", "\1"));
    } else {
        var.set("v", "");
    }
    call contract_default;
    if (var.get("text")) {
        if (str.contains(var.get("q"), "&initials") || str.contains(var.get("q"), "&name")) {
            call initials_param;
        }
    }
    if (var.get("d") != "") {
        var.set("d", "&d=" + var.get("d"));
    }
}

sub initials_param {
    var.set("v", regsub(var.get("q"), "^.*&initials(?:=([^&]*))?&.*$|^.*$", "\1"));
    call contract_initials;
    if (var.get("initials")) {
        # Plain letters win over name=.
        return;
    }
    if (var.get("v") != "") {
        var.set("initials", "&initials=" + var.get("v"));
    }
    var.set("v", regsub(var.get("q"), "^.*&name(?:=([^&]*))?&.*$|^.*$", "\1"));
    if (var.get("v") != "") {
        var.set("initials", var.get("initials") + "&name=" + var.get("v"));
    }
}

# The app serves AVIF when Accept names image/avif, else WebP when it names image/webp,
# else the natural format; three values are all the cache needs to tell apart. An entry
# followed by a comma or the end carries no q=0, which is the common case; anything else is
# read as the app reads it (a q of zero refuses the type).
sub accept_reduce {
    if (!req.http.Accept) {
        return;
    }
    if (str.startswith(req.http.Accept, "image/avif,")) {
        # What Chrome, Edge and Firefox send.
        set req.http.Accept = "image/avif";
        return;
    }
    var.set("a", "," + std.tolower(req.http.Accept) + ",");
    if (!str.contains(var.get("a"), "image/")) {
        unset req.http.Accept;
        return;
    }
    if (str.contains(var.get("a"), ",image/avif,")) {
        set req.http.Accept = "image/avif";
    } elsif (str.contains(var.get("a"), "image/avif") &&
             var.get("a") ~ ",\s*image/avif\s*(?:;|,)" &&
             var.get("a") !~ ",\s*image/avif\s*;(?:[^,]*;)?\s*q\s*=\s*(?:0+\.?0*|\.0+)\s*(?:;|,)") {
        set req.http.Accept = "image/avif";
    } elsif (str.contains(var.get("a"), ",image/webp,")) {
        set req.http.Accept = "image/webp";
    } elsif (str.contains(var.get("a"), "image/webp") &&
             var.get("a") ~ ",\s*image/webp\s*(?:;|,)" &&
             var.get("a") !~ ",\s*image/webp\s*;(?:[^,]*;)?\s*q\s*=\s*(?:0+\.?0*|\.0+)\s*(?:;|,)") {
        set req.http.Accept = "image/webp";
    } else {
        unset req.http.Accept;
    }
}

sub vcl_hash {
    # The same bytes whatever the Host: one object, not one per alias of the site.
    if (var.get("url")) {
        hash_data(var.get("url"));
        return (lookup);
    }
    if (str.startswith(req.url, "/avatar/") || str.startswith(req.url, "/static/")) {
        hash_data(req.url);
        return (lookup);
    }
}

# Within stale-while-revalidate a stale object is served while a fresh one is fetched in the
# background. Past it, the object is fetched now, unless the backends are down or the fetch
# fails: then it is served for as long as stale-if-error allows (vcl_synth). Varnish 7.1
# reads stale-while-revalidate but not stale-if-error, so vcl_backend_response sets the
# object's grace to the longer of the two.
sub vcl_hit {
    if (obj.ttl >= 0s) {
        var.set("cache", "HIT");
        return (deliver);
    }
    if (var.get("url")) {
        # The background fetch goes out with req.url.
        set req.url = var.get("url");
    }
    if (var.get("stale") != "allow" && std.healthy(req.backend_hint) &&
        obj.ttl + std.duration(regsub(obj.http.Cache-Control,
            "^.*stale-while-revalidate=([0-9]+).*$|^.*$", "\1s"), 0s) < 0s) {
        var.set("stale", "refresh");
        return (restart);
    }
    var.set("cache", "HIT-STALE");
    return (deliver);
}

sub vcl_miss {
    var.set("cache", "MISS");
    if (var.get("url")) {
        set req.url = var.get("url");
    }
}

sub vcl_pass {
    var.set("cache", "PASS");
    if (var.get("url")) {
        set req.url = var.get("url");
    }
}

sub vcl_backend_response {
    if (bereq.uncacheable) {
        return (deliver);
    }
    if (beresp.status >= 500 && str.startswith(bereq.url, "/avatar/")) {
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
    if (beresp.http.Cache-Control ~ "stale-if-error=[0-9]+") {
        var.set_duration("sie", std.duration(regsub(beresp.http.Cache-Control,
            "^.*stale-if-error=([0-9]+).*$", "\1s"), 0s));
        if (var.get_duration("sie") > beresp.grace) {
            set beresp.grace = var.get_duration("sie");
        }
    }
    if (beresp.http.xkey) {
        # The TTL is read. Purging is ours: downstream shared caches cannot be purged, so
        # they get the browser lifetime. Done once here rather than on every hit.
        set beresp.http.Cache-Control = regsub(beresp.http.Cache-Control,
            ",\s*s-maxage=[0-9]+", "");
    }
}

sub vcl_backend_error {
    if (str.startswith(bereq.url, "/avatar/")) {
        # An error object would replace the stale copy vcl_synth is about to fall back on.
        return (abandon);
    }
}

sub vcl_synth {
    if (req.url == "/edge-health" || str.startswith(req.url, "/edge-health?")) {
        set resp.http.Cache-Control = "no-store";
        set resp.http.Content-Type = "text/plain; charset=utf-8";
        if (resp.status == 200) {
            synthetic("ok: an app server is healthy" + {"
"});
        } else {
            synthetic("unavailable: no app server is healthy" + {"
"});
        }
        return (deliver);
    }
    if (resp.status == 503 && str.startswith(req.url, "/avatar/") &&
        (req.method == "GET" || req.method == "HEAD") && var.get("stale") != "allow") {
        # The fetch failed: a stale copy (up to stale-if-error) beats an error, and the
        # retry goes to the next app server of the director.
        var.set("stale", "allow");
        return (restart);
    }
    if (var.get("cache")) {
        set resp.http.X-Cache = var.get("cache");
    }
}

sub vcl_deliver {
    if (var.get("cache")) {
        set resp.http.X-Cache = var.get("cache");
    }
    if (resp.http.xkey) {
        # Internal; and the time spent here must not eat into the browser's max-age.
        unset resp.http.xkey;
        unset resp.http.Age;
    }
}

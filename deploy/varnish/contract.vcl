# The URL contract's facts for default.vcl: GENERATED from avatars/contract.py by
# `manage.py vcl_contract`. Do not edit by hand: `make test` runs
# `manage.py vcl_contract --check`, which fails when this file and the module differ.
#
# VCL cannot build a regular expression from a variable, and a subroutine returns no
# value, so each sub reads and writes vmod var values, as its comment says.

# var url := the cache key, when req.url is what pages send or already canonical:
#     /avatar/<hash>?s=<size>[&d=<keyword>][&r=<rating>&f=<y|n>]
# One match settles it, where reading parameter by parameter costs several times more.
sub contract_page_url {
    if (req.url ~ "^/avatar/(?:[0-9a-f]{32}|[0-9a-f]{64})[?]s=(?:[1-9][0-9]{0,2}|1[0-9]{3}|20[0-3][0-9]|204[0-8])(?:&d=(?:404|mp|identicon|monsterid|wavatar|retro|robohash|blank|color))?(?:&r=(?:g|pg|r|x)&f=[yn])?$") {
        if (str.contains(req.url, "&r=")) {
            var.set("url", req.url);
        } else {
            var.set("url", req.url + "&r=g&f=n");
        }
    }
}

# var at := the length of "/avatar/<hash>" when req.url starts with a lower-case hash
# followed by the query or nothing (no extension, no slash); unset otherwise.
sub contract_plain_name {
    if (req.url ~ "^/avatar/(?:[0-9a-f]{32}|[0-9a-f]{64})(?:[?]|$)") {
        if (str.count(req.url) == 40 || str.take(req.url, 1, 40) == "?") {
            var.set_int("at", 40);
        } else {
            var.set_int("at", 72);
        }
    }
}

# var hash (the name without its extension) := "" unless a lower-case MD5 or SHA-256;
# var path := "/avatar/<hash>", with ".<ext>" when var ext names a format.
sub contract_name_path {
    if (var.get("hash") !~ "^(?:[0-9a-f]{32}|[0-9a-f]{64})$") {
        var.set("hash", "");
    }
    if (var.get("ext") == "webp" ||
        var.get("ext") == "avif") {
        var.set("path", "/avatar/" + var.get("hash") + "." + var.get("ext"));
    } else {
        var.set("path", "/avatar/" + var.get("hash"));
    }
}

# var s := the size var v (the s= or size= value) asks for: 1..2048; empty, zero,
# negative or unreadable means 80, more than 2048 means 2048; with % or + it is passed on.
sub contract_size {
    if (var.get("v") == "" || var.get("v") == "80") {
        var.set("s", "80");
    } elsif (var.get("v") ~ "^(?:[1-9][0-9]{0,2}|1[0-9]{3}|20[0-3][0-9]|204[0-8])$") {
        var.set("s", var.get("v"));
    } elsif (var.get("v") ~ "^[0-9]+$") {
        # Leading zeros, zero, or too big.
        var.set("s", regsub(var.get("v"), "^0+", ""));
        if (var.get("s") == "") {
            var.set("s", "80");
        } elsif (var.get("s") ~ "^[0-9]{5,}$" || std.integer(var.get("s"), 80) > 2048) {
            var.set("s", "2048");
        }
    } elsif (var.get("v") ~ "[%+]") {
        var.set("s", var.get("v"));
    } else {
        var.set("s", "80");
    }
}

# var r := the rating var v (the r= or rating= value) names: g, pg, r, x in any case;
# with % or + it is passed on; anything else means g.
sub contract_rating {
    if (var.get("v") == "") {
        var.set("r", "g");
    } elsif (var.get("v") == "g" ||
        var.get("v") == "pg" ||
        var.get("v") == "r" ||
        var.get("v") == "x") {
        var.set("r", var.get("v"));
    } elsif (std.tolower(var.get("v")) ~ "^(?:g|pg|r|x)$") {
        var.set("r", std.tolower(var.get("v")));
    } elsif (var.get("v") ~ "[%+]") {
        var.set("r", var.get("v"));
    } else {
        var.set("r", "g");
    }
}

# var f := y when var v (the f= or forcedefault= value) is y, 1, true in any case;
# with % or + it is passed on; anything else means n.
sub contract_force {
    if (var.get("v") == "" || var.get("v") == "n") {
        var.set("f", "n");
    } elsif (var.get("v") == "y" || std.tolower(var.get("v")) ~ "^(?:y|1|true)$") {
        var.set("f", "y");
    } elsif (var.get("v") ~ "[%+]") {
        var.set("f", var.get("v"));
    } else {
        var.set("f", "n");
    }
}

# var d := the keyword var v (the d= or default= value) names (lower-cased, aliases
# applied), v itself when the app must read it (%, + or a URL's colon), or empty for the
# service's own default. var text := "1" when initials= and name= can change the image.
sub contract_default {
    if (var.get("v") == "") {
        var.set("d", "");
        var.set("text", "1");
    } elsif (var.get("v") == "404" ||
        var.get("v") == "mp" ||
        var.get("v") == "identicon" ||
        var.get("v") == "monsterid" ||
        var.get("v") == "wavatar" ||
        var.get("v") == "retro" ||
        var.get("v") == "robohash" ||
        var.get("v") == "blank" ||
        var.get("v") == "color") {
        # The common case.
        var.set("d", var.get("v"));
    } elsif (std.tolower(var.get("v")) == "mm") {
        var.set("d", "mp");
    } elsif (std.tolower(var.get("v")) ~
             "^(?:404|mp|identicon|monsterid|wavatar|retro|robohash|blank|initials|color)$") {
        var.set("d", std.tolower(var.get("v")));
    } elsif (var.get("v") ~ "[%+:]") {
        var.set("d", var.get("v"));
        var.set("text", "1");
    } else {
        var.set("d", "");
        var.set("text", "1");
    }
    if (var.get("d") == "initials") {
        var.set("text", "1");
    }
}

# var initials := &initials=<at most 3 upper-case letters> when var v (the initials=
# value) is plain letters and digits; unset otherwise.
sub contract_initials {
    if (var.get("v") ~ "^[a-zA-Z0-9]+$") {
        var.set("initials", "&initials=" + std.toupper(str.take(var.get("v"), 3)));
    }
}

# The public profile URLs (profiles/rules.py), appended by profiles/contract_vcl.py.
#
# var url := the cache key and backend URL of a public profile answer: "/<name>" (the
# page) or "/<name>.<format>" (json, xml, php, vcf, qr), <name> a hash or a
# slug that is not reserved, with only the query parameters that answer reads:
#     callback for json,
#     s, size for qr,
# none for the rest. A query with a percent-encoded name is kept whole (the app may
# decode it to one it reads). Unset for every other URL.
sub contract_profile_url {
    if (req.url ~ "^/(?:[A-Za-z0-9_-]{3,40}|[0-9A-Fa-f]{32}|[0-9A-Fa-f]{64})(?:[.](?:json|xml|php|vcf|qr))?(?:[?]|$)") {
        var.set("name", std.tolower(regsub(req.url, "^/([^.?]*).*$", "\1")));
        if (var.get("name") ~ "^(?:\.well\-known|about|account|accounts|admin|api|avatar|avatars|confirm|domain|edge\-health|email\-sent|favicon\.ico|healthz|help|i18n|login|logout|media|metrics|oauth|password|privacy|profile|profiles|readyz|robots\.txt|settings|signup|static|support|terms|userimage|v1|v2|v3|well\-known)$") {
            return;
        }
        if (!str.contains(req.url, "?")) {
            var.set("url", req.url);
            return;
        }
        var.set("path", regsub(req.url, "[?].*$", ""));
        var.set("q", "&" + regsub(req.url, "^[^?]*[?]", ""));
        if (str.contains(var.get("q"), "%") && var.get("q") ~ "&[^=&]*%") {
            var.set("url", req.url);
            return;
        }
        if (var.get("path") ~ "[.]json$") {
            var.set("q", regsuball(var.get("q"), "&(?!(?:callback)(?:[=&]|$))[^&]*", ""));
        } elsif (var.get("path") ~ "[.]qr$") {
            var.set("q", regsuball(var.get("q"), "&(?!(?:s|size)(?:[=&]|$))[^&]*", ""));
        } else {
            var.set("q", "");
        }
        if (var.get("q") == "") {
            var.set("url", var.get("path"));
        } else {
            var.set("url", var.get("path") + "?" + regsub(var.get("q"), "^&", ""));
        }
    }
}

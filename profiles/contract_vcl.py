"""The VCL of the public profile URLs, appended to deploy/varnish/contract.vcl from the rules.

Which first path segments can name a profile (a hash or a slug that is not reserved), which
formats exist, and which query parameters each answer reads are facts of `profiles.rules`;
default.vcl calls the generated sub and caches what it recognises. Registered with
`avatars.hooks.vcl_section_register` by the app's ready(), so `manage.py vcl_contract` writes
and checks it with the avatar contract.
"""

from __future__ import annotations

import re

from avatars.contract import HASH_LENGTHS
from profiles import rules


def _names() -> str:
    """A hash of either length in any case (the app lower-cases it), or a slug's shape."""
    hashes = "|".join(f"[0-9A-Fa-f]{{{length}}}" for length in HASH_LENGTHS)
    return f"[A-Za-z0-9_-]{{{rules.SLUG_MIN},{rules.SLUG_MAX}}}|{hashes}"


def _kept(parameters: tuple[str, ...]) -> str:
    """A regex that matches every "&name=value" of a "&"-framed query but these names'."""
    names = "|".join(re.escape(name) for name in parameters)
    return f"&(?!(?:{names})(?:[=&]|$))[^&]*"


def render() -> str:
    reserved = "|".join(re.escape(word) for word in sorted(rules.RESERVED_SLUGS))
    formats = "|".join(rules.FORMATS)
    folding = []
    for number, (fmt, parameters) in enumerate(sorted(rules.FORMAT_PARAMETERS.items())):
        keyword = "if" if number == 0 else "} elsif"
        folding += [
            f'        {keyword} (var.get("path") ~ "[.]{fmt}$") {{',
            f'            var.set("q", regsuball(var.get("q"), "{_kept(parameters)}", ""));',
        ]
    folding += ["        } else {", '            var.set("q", "");', "        }"]
    lines = [
        "# The public profile URLs (profiles/rules.py), appended by profiles/contract_vcl.py.",
        "#",
        '# var url := the cache key and backend URL of a public profile answer: "/<name>" (the',
        f'# page) or "/<name>.<format>" ({", ".join(rules.FORMATS)}), <name> a hash or a',
        "# slug that is not reserved, with only the query parameters that answer reads:",
        *(
            f"#     {', '.join(parameters)} for {fmt},"
            for fmt, parameters in sorted(rules.FORMAT_PARAMETERS.items())
        ),
        "# none for the rest. A query with a percent-encoded name is kept whole (the app may",
        "# decode it to one it reads). Unset for every other URL.",
        "sub contract_profile_url {",
        f'    if (req.url ~ "^/(?:{_names()})(?:[.](?:{formats}))?(?:[?]|$)") {{',
        '        var.set("name", std.tolower(regsub(req.url, "^/([^.?]*).*$", "\\1")));',
        f'        if (var.get("name") ~ "^(?:{reserved})$") {{',
        "            return;",
        "        }",
        '        if (!str.contains(req.url, "?")) {',
        '            var.set("url", req.url);',
        "            return;",
        "        }",
        '        var.set("path", regsub(req.url, "[?].*$", ""));',
        '        var.set("q", "&" + regsub(req.url, "^[^?]*[?]", ""));',
        '        if (str.contains(var.get("q"), "%") && var.get("q") ~ "&[^=&]*%") {',
        '            var.set("url", req.url);',
        "            return;",
        "        }",
        *folding,
        '        if (var.get("q") == "") {',
        '            var.set("url", var.get("path"));',
        "        } else {",
        '            var.set("url", var.get("path") + "?" + regsub(var.get("q"), "^&", ""));',
        "        }",
        "    }",
        "}",
    ]
    return "\n".join(lines) + "\n"

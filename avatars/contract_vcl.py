"""The VCL copy of the URL contract, `deploy/varnish/contract.vcl`, from avatars/contract.py.

default.vcl decides how to read an avatar URL quickly; this file says what each value means
(sizes and their clamp, hash shapes, keywords and aliases, ratings, force, formats), so those
facts live in the contract module alone. VCL cannot build a regular expression from a variable
and its subroutines return nothing, so each generated sub reads and writes vmod var values, as
its comment says. `manage.py vcl_contract` writes the file; `--check` (run by `make test`)
fails when the committed file is out of step.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from avatars import contract, hooks

CONTRACT_VCL = Path(__file__).resolve().parent.parent / "deploy" / "varnish" / "contract.vcl"
PREFIX = "/avatar/"


def _alternatives(values: Iterable[str]) -> str:
    return "|".join(values)


def _any_equal(variable: str, values: Iterable[str]) -> str:
    """`var.get("v") == "a" || var.get("v") == "b"`: string comparisons, cheaper than a regex."""
    return " ||\n        ".join(f'var.get("{variable}") == "{value}"' for value in values)


def render() -> str:
    """The whole text of contract.vcl."""
    if contract.MIN_SIZE != 1:
        raise ValueError("the VCL reads sizes as 1..MAX_SIZE; teach it another minimum first")
    hashes = contract.HASH_PATTERN
    sizes = contract.size_pattern(contract.MAX_SIZE)
    plain_keywords = [k for k in contract.DEFAULT_KEYWORDS if k not in contract.TEXT_DEFAULTS]
    too_many_digits = len(str(contract.MAX_SIZE)) + 1
    lengths = sorted(len(PREFIX) + length for length in contract.HASH_LENGTHS)
    formats = list(contract.FORMAT_EXTENSIONS)
    text_defaults = sorted(contract.TEXT_DEFAULTS)

    plain_name = []
    for number, at in enumerate(lengths[:-1]):
        keyword = "if" if number == 0 else "} elsif"
        ends_here = f'str.count(req.url) == {at} || str.take(req.url, 1, {at}) == "?"'
        plain_name += [
            f"        {keyword} ({ends_here}) {{",
            f'            var.set_int("at", {at});',
        ]
    if plain_name:
        plain_name += [
            "        } else {",
            f'            var.set_int("at", {lengths[-1]});',
            "        }",
        ]
    else:
        plain_name = [f'        var.set_int("at", {lengths[-1]});']

    aliases = []
    for alias, keyword in contract.DEFAULT_ALIASES.items():
        aliases += [
            f'    }} elsif (std.tolower(var.get("v")) == "{alias}") {{',
            f'        var.set("d", "{keyword}");',
        ]

    lines = [
        "# The URL contract's facts for default.vcl: GENERATED from avatars/contract.py by",
        "# `manage.py vcl_contract`. Do not edit by hand: `make test` runs",
        "# `manage.py vcl_contract --check`, which fails when this file and the module differ.",
        "#",
        "# VCL cannot build a regular expression from a variable, and a subroutine returns no",
        "# value, so each sub reads and writes vmod var values, as its comment says.",
        "",
        "# var url := the cache key, when req.url is what pages send or already canonical:",
        "#     /avatar/<hash>?s=<size>[&d=<keyword>][&r=<rating>&f=<y|n>]",
        "# One match settles it, where reading parameter by parameter costs several times more.",
        "sub contract_page_url {",
        f'    if (req.url ~ "^{PREFIX}(?:{hashes})[?]s=(?:{sizes})'
        f"(?:&d=(?:{_alternatives(plain_keywords)}))?"
        f'(?:&r=(?:{_alternatives(contract.RATINGS)})&f=[yn])?$") {{',
        '        if (str.contains(req.url, "&r=")) {',
        '            var.set("url", req.url);',
        "        } else {",
        f'            var.set("url", req.url + "&r={contract.DEFAULT_RATING}&f=n");',
        "        }",
        "    }",
        "}",
        "",
        '# var at := the length of "/avatar/<hash>" when req.url starts with a lower-case hash',
        "# followed by the query or nothing (no extension, no slash); unset otherwise.",
        "sub contract_plain_name {",
        f'    if (req.url ~ "^{PREFIX}(?:{hashes})(?:[?]|$)") {{',
        *plain_name,
        "    }",
        "}",
        "",
        '# var hash (the name without its extension) := "" unless a lower-case MD5 or SHA-256;',
        '# var path := "/avatar/<hash>", with ".<ext>" when var ext names a format.',
        "sub contract_name_path {",
        f'    if (var.get("hash") !~ "^(?:{hashes})$") {{',
        '        var.set("hash", "");',
        "    }",
        f"    if ({_any_equal('ext', formats)}) {{",
        f'        var.set("path", "{PREFIX}" + var.get("hash") + "." + var.get("ext"));',
        "    } else {",
        f'        var.set("path", "{PREFIX}" + var.get("hash"));',
        "    }",
        "}",
        "",
        "# var s := the size var v (the s= or size= value) asks for:"
        f" {contract.MIN_SIZE}..{contract.MAX_SIZE}; empty, zero,",
        f"# negative or unreadable means {contract.DEFAULT_SIZE}, more than {contract.MAX_SIZE}"
        f" means {contract.MAX_SIZE}; with % or + it is passed on.",
        "sub contract_size {",
        f'    if (var.get("v") == "" || var.get("v") == "{contract.DEFAULT_SIZE}") {{',
        f'        var.set("s", "{contract.DEFAULT_SIZE}");',
        f'    }} elsif (var.get("v") ~ "^(?:{sizes})$") {{',
        '        var.set("s", var.get("v"));',
        '    } elsif (var.get("v") ~ "^[0-9]+$") {',
        "        # Leading zeros, zero, or too big.",
        '        var.set("s", regsub(var.get("v"), "^0+", ""));',
        '        if (var.get("s") == "") {',
        f'            var.set("s", "{contract.DEFAULT_SIZE}");',
        f'        }} elsif (var.get("s") ~ "^[0-9]{{{too_many_digits},}}$" ||'
        f' std.integer(var.get("s"), {contract.DEFAULT_SIZE}) > {contract.MAX_SIZE}) {{',
        f'            var.set("s", "{contract.MAX_SIZE}");',
        "        }",
        '    } elsif (var.get("v") ~ "[%+]") {',
        '        var.set("s", var.get("v"));',
        "    } else {",
        f'        var.set("s", "{contract.DEFAULT_SIZE}");',
        "    }",
        "}",
        "",
        "# var r := the rating var v (the r= or rating= value) names:"
        f" {', '.join(contract.RATINGS)} in any case;",
        f"# with % or + it is passed on; anything else means {contract.DEFAULT_RATING}.",
        "sub contract_rating {",
        '    if (var.get("v") == "") {',
        f'        var.set("r", "{contract.DEFAULT_RATING}");',
        f"    }} elsif ({_any_equal('v', contract.RATINGS)}) {{",
        '        var.set("r", var.get("v"));',
        f'    }} elsif (std.tolower(var.get("v")) ~ "^(?:{_alternatives(contract.RATINGS)})$") {{',
        '        var.set("r", std.tolower(var.get("v")));',
        '    } elsif (var.get("v") ~ "[%+]") {',
        '        var.set("r", var.get("v"));',
        "    } else {",
        f'        var.set("r", "{contract.DEFAULT_RATING}");',
        "    }",
        "}",
        "",
        "# var f := y when var v (the f= or forcedefault= value) is"
        f" {', '.join(contract.FORCE_YES)} in any case;",
        "# with % or + it is passed on; anything else means n.",
        "sub contract_force {",
        '    if (var.get("v") == "" || var.get("v") == "n") {',
        '        var.set("f", "n");',
        f'    }} elsif (var.get("v") == "{contract.FORCE_YES[0]}" ||'
        f' std.tolower(var.get("v")) ~ "^(?:{_alternatives(contract.FORCE_YES)})$") {{',
        '        var.set("f", "y");',
        '    } elsif (var.get("v") ~ "[%+]") {',
        '        var.set("f", var.get("v"));',
        "    } else {",
        '        var.set("f", "n");',
        "    }",
        "}",
        "",
        "# var d := the keyword var v (the d= or default= value) names (lower-cased, aliases",
        "# applied), v itself when the app must read it (%, + or a URL's colon), or empty for the",
        '# service\'s own default. var text := "1" when initials= and name= can change the image.',
        "sub contract_default {",
        '    if (var.get("v") == "") {',
        '        var.set("d", "");',
        '        var.set("text", "1");',
        f"    }} elsif ({_any_equal('v', plain_keywords)}) {{",
        "        # The common case.",
        '        var.set("d", var.get("v"));',
        *aliases,
        '    } elsif (std.tolower(var.get("v")) ~',
        f'             "^(?:{_alternatives(contract.DEFAULT_KEYWORDS)})$") {{',
        '        var.set("d", std.tolower(var.get("v")));',
        '    } elsif (var.get("v") ~ "[%+:]") {',
        '        var.set("d", var.get("v"));',
        '        var.set("text", "1");',
        "    } else {",
        '        var.set("d", "");',
        '        var.set("text", "1");',
        "    }",
        f"    if ({_any_equal('d', text_defaults)}) {{",
        '        var.set("text", "1");',
        "    }",
        "}",
        "",
        f"# var initials := &initials=<at most {contract.MAX_INITIALS} upper-case letters> when"
        " var v (the initials=",
        "# value) is plain letters and digits; unset otherwise.",
        "sub contract_initials {",
        '    if (var.get("v") ~ "^[a-zA-Z0-9]+$") {',
        '        var.set("initials", "&initials=" +'
        f' std.toupper(str.take(var.get("v"), {contract.MAX_INITIALS})));',
        "    }",
        "}",
    ]
    return (
        "\n".join(lines)
        + "\n"
        + "".join(
            # Other apps' URL facts (avatars.hooks.vcl_section_register), after the avatar's.
            "\n" + section()
            for section in hooks.vcl_sections()
        )
    )

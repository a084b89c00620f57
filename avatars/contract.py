"""The public URL contract of `/avatar/<hash>[.<ext>]?<params>`, every fact of it in one place.

Plain Python with no Django, so settings, the request parser, the image code, the checks and
the VCL generator (`manage.py vcl_contract`, which writes `deploy/varnish/contract.vcl`) all
import the same values. Change a fact here, run `manage.py vcl_contract`, and the edge follows.
"""

from __future__ import annotations

from types import MappingProxyType

# Sizes in pixels: `s=` / `size=` below the minimum or unreadable means the default; above the
# maximum means the maximum. The maximum also caps every stored master and drawing canvas.
MIN_SIZE = 1
DEFAULT_SIZE = 80
MAX_SIZE = 2048

# Addresses are named by the lower-case hex MD5 or SHA-256 of the trimmed, lower-cased address.
HASH_LENGTHS = (32, 64)
HASH_PATTERN = "|".join(f"[0-9a-f]{{{length}}}" for length in HASH_LENGTHS)

# `d=` keywords. Each generated one names a drawing in avatars.defaults; NOT_FOUND answers 404.
NOT_FOUND = "404"
GENERATED_DEFAULTS = (
    "mp",
    "identicon",
    "monsterid",
    "wavatar",
    "retro",
    "robohash",
    "blank",
    "initials",
    "color",
)
DEFAULT_KEYWORDS = (NOT_FOUND, *GENERATED_DEFAULTS)
# Older names Gravatar still answers to.
DEFAULT_ALIASES = MappingProxyType({"mm": "mp"})
# The drawings whose pixels depend on `initials=` / `name=`; for the rest those are noise.
TEXT_DEFAULTS = frozenset({"initials"})
# Letters `initials=` may draw, at most.
MAX_INITIALS = 3

# `r=` / `rating=`, lowest first: a request accepts its rating and every one before it.
G, PG, R, X = "g", "pg", "r", "x"
RATINGS = (G, PG, R, X)
DEFAULT_RATING = G

# `f=` / `forcedefault=` values that mean yes (in any case); anything else means no.
FORCE_YES = ("y", "1", "true")

# Extensions that ask for a format; any other (.jpg, .png, ...) changes nothing, as on Gravatar.
FORMAT_EXTENSIONS = MappingProxyType({"webp": "WEBP", "avif": "AVIF"})

# `d=<url>`: Gravatar's documented rules for a custom default (see avatars/request.py).
MAX_DEFAULT_URL_LENGTH = 2000
DEFAULT_URL_PORTS = MappingProxyType({"http": 80, "https": 443})
DEFAULT_URL_EXTENSIONS = ("jpg", "jpeg", "gif", "png", "webp", "avif")
# Names that only mean something inside a network: never a public host.
LOCAL_HOST_NAMES = ("localhost",)
LOCAL_HOST_SUFFIXES = ("localhost", "local", "internal", "localdomain", "lan", "home.arpa", "arpa")


def rating_rank(rating: str) -> int:
    """0 for g up to 3 for x; ValueError for anything that is not a rating."""
    return RATINGS.index(rating)


def size_pattern(maximum: int = MAX_SIZE) -> str:
    """A regular expression matching exactly the decimal numbers 1..maximum, no leading zeros,
    for the VCL, which can compare numbers only after a regex has vouched for them."""
    digits = str(maximum)
    if maximum < 1:
        raise ValueError(f"maximum must be at least 1, not {maximum}")
    if len(digits) == 1:
        return f"[1-{digits}]"
    # Every shorter number, then each way to stay below `maximum` at one position.
    branches = ["[1-9]" if len(digits) == 2 else f"[1-9][0-9]{{0,{len(digits) - 2}}}"]
    for position, digit in enumerate(digits):
        lowest = 1 if position == 0 else 0
        last = position == len(digits) - 1
        highest = int(digit) if last else int(digit) - 1
        if highest < lowest:
            continue
        choice = str(lowest) if lowest == highest else f"[{lowest}-{highest}]"
        rest = len(digits) - position - 1
        tail = "" if rest == 0 else ("[0-9]" if rest == 1 else f"[0-9]{{{rest}}}")
        branches.append(digits[:position] + choice + tail)
    return "|".join(branches)

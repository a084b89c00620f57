"""Template filters of the public profile card (templates/profiles/_card.html)."""

from __future__ import annotations

from django import template
from django.utils.safestring import SafeString

from profiles import formats

register = template.Library()


@register.filter
def about_html(text: str) -> SafeString:
    """About-me text escaped, its links rel="nofollow ugc" (HTML only, spec §2)."""
    return formats.about_html(text)

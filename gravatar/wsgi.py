import logging
import os

from django.core import checks
from django.core.management.base import SystemCheckError
from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "gravatar.settings")
_django = get_wsgi_application()  # sets Django up

from avatars.handler import AvatarFastPath  # noqa: E402 (needs the apps loaded)

# GET and HEAD of /avatar/ skip the middleware that has nothing to do for them.
application = AvatarFastPath(_django)

# gunicorn runs no system checks of its own: without this, a server started directly (not via
# `make run`, whose migrate runs them) would come up with, say, a bad AVATAR_DEFAULT and answer
# 500s. With preload_app the master loads this once, so a bad value stops the server at start.
_messages = [m for m in checks.run_checks() if not m.is_silenced()]
_errors = [m for m in _messages if m.level >= checks.ERROR]
if _errors:
    raise SystemCheckError("\n".join(str(message) for message in _errors))
# Warnings (a configuration that cannot run on several nodes) are logged, once per start.
for _warning in (m for m in _messages if checks.WARNING <= m.level < checks.ERROR):
    logging.getLogger("gravatar.wsgi").warning("%s", _warning)

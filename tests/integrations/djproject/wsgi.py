"""The Django project's WSGI entry as gunicorn loads it in each worker; the scheduler node
runs in the elected worker only."""

from __future__ import annotations

import os

from django.core.wsgi import get_wsgi_application  # type: ignore[import-untyped]

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tests.integrations.djproject.settings")
application = get_wsgi_application()

from tickwork.integrations.django import start  # noqa: E402 - after Django is set up

start()

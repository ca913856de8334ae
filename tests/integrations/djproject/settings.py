"""Settings of the Django project of the integration test: DATABASES from the environment
(TEST_DJANGO_DATABASE, a JSON entry of DATABASES), Tickwork sharing that database."""

from __future__ import annotations

import json
import os

SECRET_KEY = "test-only-not-secret"
USE_TZ = True
TIME_ZONE = "Asia/Shanghai"
INSTALLED_APPS = ["tests.integrations.djproject.ticks", "tickwork.integrations.django"]
DATABASES = {"default": json.loads(os.environ.get("TEST_DJANGO_DATABASE", "{}"))}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
TICKWORK = {
    "DATABASE": "default",
    "JOBS": [
        {
            "id": "record_tick",
            "target": "tests.integrations.djproject.ticks.jobs:record",
            "interval": {"seconds": 1},
        },
    ],
}

"""Django integration: add ``"tickwork.integrations.django"`` to INSTALLED_APPS and a
``TICKWORK`` setting::

    TICKWORK = {
        "DATABASE": "default",            # an alias of DATABASES (Tickwork's tables: tw_*),
                                          # or a SQLAlchemy URL; default: "default"
        "TIMEZONE": "Asia/Shanghai",      # default: TIME_ZONE
        "JOBS": [                         # job entries (Tickwork's, or Flask-APScheduler's)
            {"id": "cleanup", "target": "shop.tasks:cleanup", "cron": "0 3 * * *"},
        ],
        "JOB_FILES": ["jobs.yaml"],
    }

``python manage.py tickwork run`` runs a scheduler node (jobs run with the ORM ready and
Django's stale connections closed around each one, as a request would);
``python manage.py tickwork jobs`` lists them. To run the node inside the web workers instead,
call ``tickwork.integrations.django.start()`` from wsgi.py/asgi.py: one worker per host is
elected. ``tickwork.integrations.django.get_tickwork()`` is the facade for your views.
"""

from __future__ import annotations

from tickwork.integrations.django.conf import get_tickwork, start, url_of_database

__all__ = ["get_tickwork", "start", "url_of_database"]

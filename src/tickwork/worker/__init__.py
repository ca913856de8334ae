"""``tickwork worker``: a Celery worker that runs Tickwork's runs (docs/celery.md)."""

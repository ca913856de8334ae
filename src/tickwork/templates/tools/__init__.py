"""The commands the built-in templates' shell jobs run (``python -m tickwork.templates.tools``):
database backup and log cleanup. They run in the job's child process, never in a server."""

"""The Tickwork facade: the one Python API that every face (code, CLI, REST API, console,
job files) calls. Validation happens here, once; the engine runs when ``start()`` is called.

APScheduler 3 calls work unchanged::

    tw = Tickwork()
    tw.add_job(cleanup, "cron", hour=2, minute=0, id="cleanup", replace_existing=True)
    tw.start()
"""

from __future__ import annotations

from tickwork.service.alerts import AlertsMixin
from tickwork.service.bulk_add import BulkAddMixin
from tickwork.service.connections import ConnectionsMixin
from tickwork.service.control import ControlMixin
from tickwork.service.forecast import ForecastMixin
from tickwork.service.groups import GroupsMixin
from tickwork.service.jobs import JobsMixin
from tickwork.service.pausing import PausingMixin
from tickwork.service.queries import QueriesMixin
from tickwork.service.runs import RunsMixin
from tickwork.service.scripts import ScriptsMixin
from tickwork.service.secrets import SecretsMixin
from tickwork.service.store_backup import StoreBackupMixin
from tickwork.service.templates import TemplatesMixin
from tickwork.service.workflows import WorkflowsMixin


class Tickwork(
    WorkflowsMixin,  # first: it wraps start/shutdown/sync_job_files of the others
    JobsMixin,
    BulkAddMixin,
    PausingMixin,
    RunsMixin,
    ControlMixin,
    QueriesMixin,
    SecretsMixin,
    AlertsMixin,  # before ConnectionsMixin, which it extends
    ConnectionsMixin,
    ScriptsMixin,
    ForecastMixin,
    TemplatesMixin,
    GroupsMixin,
    StoreBackupMixin,  # extends RetentionMixin: Tickwork's own jobs
):
    """Scheduler facade. Without ``start()`` it is a client of the shared database (what the
    CLI and the REST API use); ``start()`` also runs a scheduler node in background threads.

    Jobs: ``add_job``, ``get_job(s)``, ``modify_job``, ``reschedule_job``, ``pause_job``,
    ``resume_job``, ``remove_job``; runs: ``run_job``, ``get_run(s)``, ``cancel_run``; the
    scheduler: ``start``, ``shutdown``, ``pause``, ``resume``, listeners; views: ``stats``,
    ``job_page``, ``nodes``; named connections (``add_connection``, ``test_connection``, ...)
    and scripts (``push_script``, ``script_history``, ...). Each concern lives in its own
    module of ``tickwork.service``."""

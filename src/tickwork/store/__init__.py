"""The SQL store: one implementation over SQLite (default), PostgreSQL and MySQL/MariaDB."""

from __future__ import annotations

from tickwork.store.database import Database
from tickwork.store.groups_repo import GroupRepo
from tickwork.store.jobs import JobFilter, JobRepo
from tickwork.store.kinds_repo import ConnectionRepo, ScriptRepo
from tickwork.store.nodes import NodeRecord, NodeRepo
from tickwork.store.records import JobRecord, RunRecord
from tickwork.store.runs import NewRun, RunFilter, RunRepo
from tickwork.store.settings_repo import SettingRepo
from tickwork.store.workflows_repo import WorkflowRepo


class Store:
    """The database and the repositories over it. Holds no state of its own."""

    def __init__(self, url: str, *, pool_size: int = 8) -> None:
        self.db = Database(url, pool_size=pool_size)
        self.jobs = JobRepo(self.db)
        self.runs = RunRepo(self.db)
        self.nodes = NodeRepo(self.db)
        self.settings = SettingRepo()
        self.connections = ConnectionRepo()
        self.scripts = ScriptRepo()
        self.workflows = WorkflowRepo(self.db)
        self.groups = GroupRepo()

    def upgrade(self) -> str:
        from tickwork.store.migrate import upgrade

        return upgrade(self.db)

    def close(self) -> None:
        self.db.dispose()


__all__ = [
    "Database",
    "JobFilter",
    "JobRecord",
    "NewRun",
    "NodeRecord",
    "RunFilter",
    "RunRecord",
    "Store",
]
